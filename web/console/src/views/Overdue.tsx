// Overdue findings: the whole list, filterable, with bulk scheduling of follow-up visits.
import { useEffect, useState } from "preact/hooks";
import { gregorian } from "@shared/dates";
import { api, errorText, useConsole } from "../context";

interface Row {
  id: number;
  establishment_name: string;
  item_code: string;
  severity: string;
  fine_sar: string;
  due_date: string;
  days_overdue: number;
  follow_up_date: string | null;
}

export function Overdue() {
  const { t, language, municipalityId } = useConsole();
  const [rows, setRows] = useState<Row[]>([]);
  const [count, setCount] = useState(0);
  const [severity, setSeverity] = useState("");
  const [unscheduled, setUnscheduled] = useState(false);
  const [chosen, setChosen] = useState<number[]>([]);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");

  async function load() {
    const page = await api.get<{ items: Row[]; count: number }>("findings/overdue", {
      municipality: municipalityId,
      severity: severity || undefined,
      unscheduled: String(unscheduled),
      limit: 1000,
    });
    setRows(page.items);
    setCount(page.count);
  }
  useEffect(() => {
    load().catch((failure) => setError(errorText(failure)));
  }, [municipalityId, severity, unscheduled]);

  async function schedule() {
    try {
      const done = await api.post<unknown[]>("findings/follow-ups", { finding_ids: chosen });
      setMessage(t("scheduled", { count: done.length }));
      setChosen([]);
      await load();
    } catch (failure) {
      setError(errorText(failure));
    }
  }
  const toggle = (id: number) => setChosen(chosen.includes(id) ? chosen.filter((other) => other !== id) : [...chosen, id]);

  return (
    <section class="overdue">
      <div class="toolbar">
        <h2>
          {t("overdue")} ({count})
        </h2>
        <label>
          {t("severity")}{" "}
          <select value={severity} onChange={(event) => setSeverity((event.target as HTMLSelectElement).value)}>
            <option value="">{t("all")}</option>
            {["critical", "major", "minor"].map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={unscheduled} onChange={() => setUnscheduled(!unscheduled)} /> {t("unscheduled")}
        </label>
        <button onClick={schedule} disabled={!chosen.length} data-testid="schedule">
          {t("scheduleFollowUps", { count: chosen.length })}
        </button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {message && <p class="ok" role="status">{message}</p>}
      <table class="table card">
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label={t("all")}
                checked={chosen.length > 0 && chosen.length === rows.length}
                onChange={() => setChosen(chosen.length === rows.length ? [] : rows.map((row) => row.id))}
              />
            </th>
            <th>{t("establishment")}</th>
            <th>{t("item")}</th>
            <th>{t("severity")}</th>
            <th>{t("due")}</th>
            <th>{t("followUp")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} class={`severity-${row.severity}`}>
              <td>
                <input type="checkbox" checked={chosen.includes(row.id)} onChange={() => toggle(row.id)} />
              </td>
              <td>{row.establishment_name}</td>
              <td>{row.item_code}</td>
              <td>{row.severity}</td>
              <td>
                {gregorian(row.due_date, language)} · {t("overdueDays", { days: row.days_overdue })}
              </td>
              <td>{row.follow_up_date ? gregorian(row.follow_up_date, language) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

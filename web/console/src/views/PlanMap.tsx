// Plan on a map: establishments coloured by risk and overdue, a ranked queue that says why, and a
// selection (from the map or the queue) made into a round for an inspector and a day.
import { useEffect, useRef, useState } from "preact/hooks";
import { gregorian, todayInRiyadh } from "@shared/dates";
import { localized } from "@shared/i18n";
import { api, errorText, useConsole } from "../context";
import { createMap, fit, L } from "../map";
import { riskColour, topFactors, type RiskRow } from "../plan";
import { useRoundChoices } from "../roundChoices";


export function PlanMap() {
  const { t, language, municipalityId } = useConsole();
  const [rows, setRows] = useState<RiskRow[]>([]);
  const [dueOnly, setDueOnly] = useState(false);
  const [selected, setSelected] = useState<number[]>([]);
  const { inspectors, checklists } = useRoundChoices(municipalityId);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const mapElement = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);

  useEffect(() => {
    api
      .get<{ items: RiskRow[] }>(`municipalities/${municipalityId}/risk`, { due_only: String(dueOnly), limit: 2000 })
      .then((page) => setRows(page.items), (failure) => setError(errorText(failure)));
  }, [municipalityId, dueOnly]);
  useEffect(() => {
    if (!mapElement.current || map.current) return;
    map.current = createMap(mapElement.current, municipalityId);
    layer.current = L.layerGroup().addTo(map.current);
  }, [mapElement.current]);
  useEffect(() => {
    if (!layer.current || !map.current) return;
    layer.current.clearLayers();
    const chosen = new Set(selected);
    for (const row of rows) {
      const marker = L.circleMarker([row.lat, row.lon], {
        radius: chosen.has(row.establishment_id) ? 9 : 6,
        color: chosen.has(row.establishment_id) ? "#000" : riskColour(row),
        weight: chosen.has(row.establishment_id) ? 3 : 1,
        fillColor: riskColour(row),
        fillOpacity: 0.85,
      });
      marker.bindTooltip(`${localized(row, "name", language)} · ${row.score.toFixed(0)}`);
      marker.on("click", () => toggle(row.establishment_id));
      marker.addTo(layer.current);
    }
    if (!selected.length) fit(map.current, rows.map((row) => [row.lat, row.lon]));
  }, [rows, selected]);

  function toggle(id: number) {
    setSelected((current) => (current.includes(id) ? current.filter((other) => other !== id) : [...current, id]));
  }

  async function createRound(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    try {
      await api.post("rounds", {
        inspector_id: Number(form.get("inspector")),
        date: String(form.get("date")),
        checklist_id: Number(form.get("checklist")),
        establishment_ids: selected,
        optimize_route: true,
      });
      setMessage(t("roundCreated"));
      setSelected([]);
      setError("");
    } catch (failure) {
      setError(errorText(failure));
    }
  }

  return (
    <section class="plan-map">
      <div class="toolbar">
        <h2>{t("planMap")}</h2>
        <label>
          <input type="checkbox" checked={dueOnly} onChange={() => setDueOnly(!dueOnly)} /> {t("dueOnly")}
        </label>
        <span class="legend">
          {(["high", "medium", "low"] as const).map((klass) => (
            <span key={klass}>
              <i style={{ background: riskColour({ risk_class: klass, overdue_days: 1 }) }} />
              <i style={{ background: riskColour({ risk_class: klass, overdue_days: 0 }) }} />
              {t(`class_${klass}`)}
            </span>
          ))}
        </span>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {message && <p class="ok" role="status">{message}</p>}
      <div class="columns">
        <div class="card map tall" ref={mapElement} data-testid="plan-map" />
        <div class="card queue">
          <h3>{t("queue")}</h3>
          <form class="create-round" onSubmit={createRound}>
            <strong>{t("selected", { count: selected.length })}</strong>
            <select name="inspector" aria-label={t("inspector")}>
              {inspectors.map((person) => (
                <option key={person.id} value={person.id}>
                  {person.name}
                </option>
              ))}
            </select>
            <input name="date" type="date" aria-label={t("date")} value={todayInRiyadh()} />
            <select name="checklist" aria-label={t("checklist")}>
              {checklists.map((checklist) => (
                <option key={checklist.id} value={checklist.id}>
                  {localized(checklist, "name", language)}
                </option>
              ))}
            </select>
            <button type="submit" disabled={!selected.length}>
              {t("createRound")}
            </button>
          </form>
          <ol class="ranked">
            {rows.slice(0, 200).map((row) => (
              <li key={row.establishment_id} class={selected.includes(row.establishment_id) ? "chosen" : ""}>
                <label>
                  <input type="checkbox" checked={selected.includes(row.establishment_id)} onChange={() => toggle(row.establishment_id)} />
                  <i class="dot" style={{ background: riskColour(row) }} />
                  <strong>{localized(row, "name", language)}</strong>
                </label>
                <span class="muted">
                  {t("score")} {row.score.toFixed(0)} ({t(`class_${row.risk_class}`)}) ·{" "}
                  {row.overdue_days > 0 ? t("overdueDays", { days: row.overdue_days }) : `${t("due")} ${gregorian(row.due_date, language)}`}
                </span>
                <span class="why">
                  {t("why")}: {topFactors(row.factors).map((factor) => `${t(`factor_${factor.name}` as any)} +${factor.points.toFixed(0)}`).join(" · ") || "—"}
                </span>
              </li>
            ))}
          </ol>
        </div>
      </div>
    </section>
  );
}

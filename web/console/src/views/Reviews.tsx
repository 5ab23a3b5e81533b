// The review queue: flagged visits, each accepted, corrected through an amendment, or sent back to
// the inspector with a reason.
import { useEffect, useState } from "preact/hooks";
import { gregorian, time } from "@shared/dates";
import { api, errorText, useConsole } from "../context";
import type { Flagged } from "./Board";

type Action = "accept" | "correct" | "send_back";

export function Reviews() {
  const { t, language, municipalityId } = useConsole();
  const [visits, setVisits] = useState<Flagged[]>([]);
  const [open, setOpen] = useState<{ id: number; action: Action } | null>(null);
  const [done, setDone] = useState<Record<number, Action>>({});
  const [error, setError] = useState("");

  useEffect(() => {
    api.get<Flagged[]>("reviews", { municipality: municipalityId }).then(setVisits, (failure) => setError(errorText(failure)));
  }, [municipalityId]);

  async function decide(event: Event) {
    event.preventDefault();
    if (!open) return;
    const form = new FormData(event.target as HTMLFormElement);
    const body: Record<string, unknown> = { action: open.action, reason: String(form.get("reason") ?? "") };
    if (open.action === "correct") body.changes = { outcome: String(form.get("outcome")) };
    try {
      await api.post(`visits/${open.id}/review`, body);
      setDone({ ...done, [open.id]: open.action });
      setOpen(null);
      setError("");
    } catch (failure) {
      setError(errorText(failure));
    }
  }

  return (
    <section class="reviews">
      <div class="toolbar">
        <h2>{t("reviews")}</h2>
        <span class="muted">{visits.length}</span>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {!visits.length && <p class="muted">{t("nothing")}</p>}
      <ul class="review-list">
        {visits.map((visit) => (
          <li key={visit.id} class="card" data-visit={visit.id}>
            <div class="review-head">
              <strong>{visit.establishment_name}</strong>
              <span>{visit.inspector_name}</span>
              <span class="muted">
                {gregorian(visit.finished_at, language)} {time(visit.finished_at, language)}
              </span>
            </div>
            <div class="flags">
              {visit.flags.map((flag) => (
                <span key={flag} class={`flag flag-${flag}`}>
                  {t(`flag_${flag}` as any)}
                </span>
              ))}
              {visit.review_status === "answered" && <span class="flag">{t("answered")}</span>}
              {visit.geo_distance_m != null && <span class="muted">{t("distance", { m: Math.round(visit.geo_distance_m) })}</span>}
              <span class="muted">{t("minutes", { min: visit.duration_minutes })}</span>
            </div>
            {done[visit.id] ? (
              <p class="ok" role="status">{done[visit.id] === "send_back" ? t("returned") : t("decided")}</p>
            ) : open?.id === visit.id ? (
              <form class="decide" onSubmit={decide}>
                {open.action === "correct" && (
                  <label>
                    {t("outcome")}{" "}
                    <select name="outcome">
                      {["compliant", "violations", "closed", "refused_entry"].map((value) => (
                        <option key={value} value={value}>
                          {value}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
                {open.action !== "accept" && (
                  <label>
                    {t("reason")} <textarea name="reason" required rows={2} />
                  </label>
                )}
                <button type="submit">{t("confirm")}</button>
                <button type="button" class="secondary" onClick={() => setOpen(null)}>
                  {t("cancel")}
                </button>
              </form>
            ) : (
              <div class="actions">
                <button onClick={() => setOpen({ id: visit.id, action: "accept" })}>{t("accept")}</button>
                <button class="secondary" onClick={() => setOpen({ id: visit.id, action: "correct" })}>
                  {t("correct")}
                </button>
                <button class="warn" onClick={() => setOpen({ id: visit.id, action: "send_back" })}>
                  {t("sendBack")}
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

import { useEffect, useState } from "preact/hooks";
import { api, config, db, t, useLive } from "../app";
import { enablePush, pushSupported } from "../lib/push";
import { syncInbox } from "../lib/sync";
import { clock } from "./common";

type ReturnedVisit = { id: number; establishment_name: string; finished_at: string; reason: string; returned_at: string };

/** Visits a supervisor sent back: read online (the server keeps them), answered as an amendment. */
function ReturnedVisits() {
  const [visits, setVisits] = useState<ReturnedVisit[]>([]);
  const [answers, setAnswers] = useState<Record<number, string>>({});
  const [sent, setSent] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<ReturnedVisit[]>("me/returned-visits").then(setVisits).catch(() => undefined);
  }, []);
  async function answer(visit: ReturnedVisit) {
    const text = (answers[visit.id] ?? "").trim();
    if (!text) return;
    try {
      await api.post(`visits/${visit.id}/return-answer`, { reason: text });
      setSent([...sent, visit.id]);
      setError(null);
    } catch (failure) {
      setError(String((failure as Error).message ?? failure));
    }
  }
  if (visits.length === 0) return null;
  return (
    <section aria-labelledby="returned-title">
      <h2 id="returned-title">{t("returned_title")}</h2>
      {error && <p class="card error" role="alert">{t("error_generic", { message: error })}</p>}
      <ul class="inbox">
        {visits.map((visit) => (
          <li class="card unread" data-testid={`returned-${visit.id}`}>
            <strong>{visit.establishment_name}</strong>
            <p class="muted">{clock(visit.finished_at)}</p>
            <p>
              <span class="muted">{t("returned_reason")}: </span>
              <span data-testid="returned-reason">{visit.reason}</span>
            </p>
            {sent.includes(visit.id) ? (
              <p role="status" data-testid="returned-sent">{t("returned_sent")}</p>
            ) : (
              <form
                onSubmit={(event) => {
                  event.preventDefault();
                  void answer(visit);
                }}
              >
                <label>
                  {t("returned_answer")}
                  <textarea
                    rows={3}
                    name="answer"
                    value={answers[visit.id] ?? ""}
                    onInput={(event) => setAnswers({ ...answers, [visit.id]: event.currentTarget.value })}
                  />
                </label>
                <button type="submit" class="wide">{t("returned_send")}</button>
              </form>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function InboxView() {
  const notifications = useLive(() => db.inbox.orderBy("created_at").reverse().toArray(), [], []);
  const settings = useLive(() => config(), [], undefined);
  const [pushToken, setPushToken] = useState(() => localStorage.getItem("jawla.field.push-token"));
  useEffect(() => {
    void syncInbox(db, api).catch(() => undefined);
  }, []);
  async function read(id: number) {
    try {
      const updated = await api.post<{ read_at: string }>(`notifications/${id}/read`, {});
      await db.inbox.update(id, { read_at: updated.read_at });
    } catch {
      // Offline: stays unread until the next refresh.
    }
  }
  return (
    <>
    <ReturnedVisits />
    <section aria-labelledby="inbox-title">
      <h2 id="inbox-title">{t("inbox_title")}</h2>
      {pushToken ? (
        <p class="muted">{t("push_on")}</p>
      ) : pushSupported(settings) ? (
        <button type="button" class="secondary wide" onClick={() => void enablePush(api, settings!).then(setPushToken).catch(() => undefined)}>
          {t("push_enable")}
        </button>
      ) : (
        <p class="muted">{t("push_off")}</p>
      )}
      {(notifications ?? []).length === 0 && <p class="card muted">{t("inbox_empty")}</p>}
      <ul class="inbox">
        {(notifications ?? []).map((notification) => (
          <li class={`card ${notification.read_at ? "read" : "unread"}`}>
            <strong>{notification.title}</strong>
            <p>{notification.body}</p>
            <div class="row spread">
              <span class="muted">{clock(notification.created_at)}</span>
              {!notification.read_at && (
                <button type="button" class="secondary" onClick={() => void read(notification.id)}>
                  {t("mark_read")}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
    </>
  );
}

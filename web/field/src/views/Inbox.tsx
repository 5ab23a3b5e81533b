import { useEffect, useState } from "preact/hooks";
import { api, config, db, t, useLive } from "../app";
import { enablePush, pushSupported } from "../lib/push";
import { syncInbox } from "../lib/sync";
import { clock } from "./common";

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
  );
}

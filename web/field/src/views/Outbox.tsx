import { authStore, db, sendNow, t, useAppState, useLive } from "../app";
import type { OutboxAck, OutboxPhoto, OutboxVisit } from "../lib/db";
import { acknowledgeable, AckSummary } from "./Acknowledgement";
import { clock, name } from "./common";
import type { MessageKey } from "../messages";

export function OutboxView() {
  const app = useAppState();
  const visits = useLive(() => db.outbox.orderBy("seq").reverse().toArray(), [], []);
  const photos = useLive(() => db.photos.toArray(), [], []);
  const acks = useLive(() => db.acks.toArray(), [], []);
  const photosOf = (visit: OutboxVisit) => (photos ?? []).filter((photo) => photo.visit_client_id === visit.client_id);
  const rejected = (visits ?? []).filter((visit) => visit.status === "rejected");
  const pending = (visits ?? []).filter((visit) => visit.status === "pending");
  const sent = (visits ?? []).filter((visit) => visit.status === "sent").slice(0, 30);
  const user = authStore.load()?.user;
  return (
    <section aria-labelledby="outbox-title">
      <div class="section-head">
        <h2 id="outbox-title">{t("outbox_title")}</h2>
        <button type="button" class="primary" onClick={() => void sendNow({ force: true })} disabled={app.sending} data-testid="send-now">
          {app.sending ? t("sending") : t("send_now")}
        </button>
      </div>
      {(visits ?? []).length === 0 && <p class="card muted">{t("outbox_empty")}</p>}
      <ul class="outbox">
        {[...rejected, ...pending, ...sent].map((visit) => (
          <OutboxRow visit={visit} photos={photosOf(visit)} ack={(acks ?? []).find((ack) => ack.visit_client_id === visit.client_id) ?? null} />
        ))}
      </ul>
      <div class="card account">
        <span>{user?.username}</span>
        <a class="button danger" href="#/signout" data-testid="sign-out">
          {t("sign_out")}
        </a>
      </div>
    </section>
  );
}

function OutboxRow({ visit, photos, ack }: { visit: OutboxVisit; photos: OutboxPhoto[]; ack: OutboxAck | null }) {
  const waitingPhotos = photos.filter((photo) => photo.status === "pending").length;
  const rejectedPhotos = photos.filter((photo) => photo.status === "rejected");
  return (
    <li class={`card outbox-row ${visit.status}`} data-testid="outbox-visit" data-client-id={visit.client_id} data-status={visit.status}>
      <div class="row spread">
        <strong>{name(visit.shop)}</strong>
        <span class={`chip status-${visit.status}`}>{t(`status_${visit.status}` as MessageKey)}</span>
      </div>
      <span class="muted">
        {clock(visit.saved_at)}
        {visit.visit_id ? ` · ${t("visit_id", { id: visit.visit_id })}` : ""}
      </span>
      {visit.status === "pending" && visit.attempts > 0 && (
        <span class="muted">
          {t("attempts", { count: visit.attempts, time: clock(visit.next_attempt_at) })}
          {visit.last_error ? ` · ${visit.last_error}` : ""}
        </span>
      )}
      {waitingPhotos > 0 && <span class="muted">{t("photos_waiting", { count: waitingPhotos })}</span>}
      {rejectedPhotos.map((photo) => (
        <span class="error">{t("photo_rejected", { message: photo.last_error ?? "" })}</span>
      ))}
      {ack ? (
        <a class="ack-link" href={`#/ack/${visit.client_id}`}>
          <AckSummary ack={ack} />
        </a>
      ) : (
        acknowledgeable(visit) && (
          <a class="button" href={`#/ack/${visit.client_id}`} data-testid="ack-record">
            {t("ack_record")}
          </a>
        )
      )}
      {visit.status === "rejected" && (
        <>
          <p class="error" role="alert" data-testid="rejection">
            {visit.rejection?.message}
          </p>
          <a class="button primary" href={`#/fix/${visit.client_id}`} data-testid="fix">
            {t("fix_and_resend")}
          </a>
        </>
      )}
    </li>
  );
}

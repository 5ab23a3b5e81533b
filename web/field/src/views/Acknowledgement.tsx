// The shop manager's acknowledgement of a visit, on the inspector's phone: a signature drawn with a
// finger (or mouse, or pen) and the signer's name, or the inspector's record that the manager refused
// to sign. Saved on the phone first (the outbox sends it once its visit has an id).
import { useEffect, useRef, useState } from "preact/hooks";
import { db, requestBackgroundSync, sendNow, showToast, t, useLive } from "../app";
import type { OutboxAck, OutboxVisit } from "../lib/db";
import { saveAcknowledgement } from "../lib/outbox";
import type { MessageKey } from "../messages";
import { name } from "./common";

/** The outcomes after which someone at the shop can acknowledge the visit. */
export function acknowledgeable(visit: OutboxVisit): boolean {
  return visit.payload.outcome === "compliant" || visit.payload.outcome === "violations";
}

export function AcknowledgementView({ visitClientId }: { visitClientId: string }) {
  const found = useLive(
    async () => ({
      visit: (await db.outbox.where("client_id").equals(visitClientId).first()) ?? null,
      ack: (await db.acks.where("visit_client_id").equals(visitClientId).first()) ?? null,
    }),
    [visitClientId],
    undefined,
  );
  const [again, setAgain] = useState(false);
  if (found === undefined) return <p class="muted">…</p>;
  if (!found.visit) return <p class="card error">{t("ack_visit_missing")}</p>;
  const { visit, ack } = found;
  return (
    <section class="ack" aria-labelledby="ack-title">
      <div class="card">
        <h2 id="ack-title">{t("ack_title")}</h2>
        <p class="shop-name-line">{name(visit.shop)}</p>
      </div>
      {ack && !again ? (
        <div class="card">
          <AckSummary ack={ack} />
          <div class="row">
            {ack.status !== "sent" && (
              <button type="button" onClick={() => setAgain(true)} data-testid="ack-again">
                {t("ack_record_again")}
              </button>
            )}
            <a class="button primary" href="#/rounds">
              {t("tab_rounds")}
            </a>
          </div>
        </div>
      ) : (
        <AckForm visit={visit} />
      )}
    </section>
  );
}

/** What was recorded and where it is: waiting on the phone, sent (with the image's hash), refused. */
export function AckSummary({ ack }: { ack: OutboxAck }) {
  return (
    <div class="ack-summary" data-testid="ack-status" data-status={ack.status} data-kind={ack.kind}>
      <div class="row spread">
        <strong>{ack.kind === "signed" ? t("ack_signed_by", { name: ack.signer_name }) : ack.signer_name ? t("ack_refused_by", { name: ack.signer_name }) : t("ack_refused")}</strong>
        <span class={`chip status-${ack.status}`}>{t(`status_${ack.status}` as MessageKey)}</span>
      </div>
      {ack.signature_sha256 && (
        <span class="muted small">
          {t("ack_hash")} <span class="ltr hash">{ack.signature_sha256.slice(0, 16)}…</span>
        </span>
      )}
      {ack.status === "rejected" && ack.last_error && <span class="error">{ack.last_error}</span>}
    </div>
  );
}

function AckForm({ visit }: { visit: OutboxVisit }) {
  const pad = useRef<SignaturePadHandle | null>(null);
  const [hasInk, setHasInk] = useState(false);
  const [signer, setSigner] = useState("");
  const [refusing, setRefusing] = useState(false);
  const [refuser, setRefuser] = useState("");
  const [tried, setTried] = useState(false);
  const [saving, setSaving] = useState(false);
  // Shown once the signer has tried to save, and updated as they draw and type.
  const missing = [...(hasInk ? [] : [t("ack_need_ink")]), ...(signer.trim() ? [] : [t("ack_need_name")])];
  const problems = tried && !refusing ? missing : [];

  async function store(kind: "signed" | "refused") {
    if (kind === "signed" && missing.length) {
      setTried(true);
      return;
    }
    setSaving(true);
    await saveAcknowledgement(db, {
      visit_client_id: visit.client_id,
      kind,
      signer_name: (kind === "signed" ? signer : refuser).trim(),
      signature_png_base64: kind === "signed" ? pad.current!.png() : null,
      captured_at: new Date().toISOString(),
      saved_at: Date.now(),
    });
    showToast(t("ack_saved"));
    location.hash = "#/outbox";
    void requestBackgroundSync();
    void sendNow();
  }

  if (refusing) {
    return (
      <div class="card" data-testid="ack-refusal">
        <p>{t("ack_refusal_note")}</p>
        <label>
          {t("ack_refused_name")}
          <input name="refuser_name" value={refuser} maxLength={200} autoComplete="off" onInput={(event) => setRefuser(event.currentTarget.value)} />
        </label>
        <div class="stack">
          <button type="button" class="danger big" onClick={() => void store("refused")} disabled={saving} data-testid="ack-refusal-confirm">
            {t("ack_refused_confirm")}
          </button>
          <button type="button" class="big" onClick={() => setRefusing(false)}>
            {t("back")}
          </button>
        </div>
      </div>
    );
  }

  return (
    <div class="card">
      <p>{t("ack_intro")}</p>
      <div class="pad-head">
        <span class="label">{t("ack_signature")}</span>
        <button type="button" onClick={() => (pad.current?.clear(), setHasInk(false))} data-testid="ack-clear">
          {t("ack_clear")}
        </button>
      </div>
      <SignaturePad handle={pad} onInk={() => setHasInk(true)} label={t("ack_signature")} />
      <label>
        {t("ack_name")}
        <input name="signer_name" value={signer} maxLength={200} autoComplete="off" onInput={(event) => setSigner(event.currentTarget.value)} />
      </label>
      {problems.length > 0 && (
        <div class="banner danger" role="alert" data-testid="ack-problems">
          {problems.map((problem) => (
            <p>{problem}</p>
          ))}
        </div>
      )}
      <div class="stack">
        <button type="button" class="primary big" onClick={() => void store("signed")} disabled={saving} data-testid="ack-submit">
          {t("ack_submit")}
        </button>
        <button type="button" class="big outline-danger" onClick={() => (setTried(false), setRefusing(true))} data-testid="ack-refused">
          {t("ack_refused")}
        </button>
        <a class="button big-link" href="#/rounds" data-testid="ack-later">
          {t("ack_later")}
        </a>
      </div>
    </div>
  );
}

interface SignaturePadHandle {
  clear(): void;
  /** The drawing as a PNG, base64 without the data: prefix. */
  png(): string;
}

const INK = "#0a0a0a";
const MAX_SIDE = 1600;

/** A canvas the signer draws on with pointer events (finger, pen or mouse), ink on white. The
 * canvas keeps its pixels at the device's resolution; pointer positions are scaled from the box the
 * page shows, so it draws the same in right-to-left and left-to-right layouts. */
function SignaturePad({ handle, onInk, label }: { handle: { current: SignaturePadHandle | null }; onInk: () => void; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const element = canvas.current!;
    const box = element.getBoundingClientRect();
    const ratio = Math.min(window.devicePixelRatio || 1, MAX_SIDE / Math.max(box.width, box.height, 1));
    element.width = Math.max(10, Math.round(box.width * ratio));
    element.height = Math.max(10, Math.round(box.height * ratio));
    const context = element.getContext("2d")!;
    const blank = () => {
      context.fillStyle = "#fff";
      context.fillRect(0, 0, element.width, element.height);
    };
    blank();
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = INK;
    context.fillStyle = INK;
    context.lineWidth = Math.max(2, 2.6 * ratio);
    let drawing: number | null = null;
    let last: [number, number] | null = null;
    let inked = 0;
    const at = (event: PointerEvent): [number, number] => {
      const rect = element.getBoundingClientRect();
      return [((event.clientX - rect.left) * element.width) / rect.width, ((event.clientY - rect.top) * element.height) / rect.height];
    };
    const line = (to: [number, number]) => {
      if (!last) return;
      context.beginPath();
      context.moveTo(last[0], last[1]);
      context.lineTo(to[0], to[1]);
      context.stroke();
      inked += Math.hypot(to[0] - last[0], to[1] - last[1]);
      last = to;
      if (inked > 12 * ratio) onInk();
    };
    const down = (event: PointerEvent) => {
      if (drawing !== null) return;
      event.preventDefault();
      drawing = event.pointerId;
      element.setPointerCapture?.(event.pointerId);
      last = at(event);
      context.beginPath();
      context.arc(last[0], last[1], context.lineWidth / 2, 0, Math.PI * 2);
      context.fill();
    };
    const move = (event: PointerEvent) => {
      if (event.pointerId !== drawing) return;
      event.preventDefault();
      const points = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
      for (const point of points.length ? points : [event]) line(at(point));
    };
    const up = (event: PointerEvent) => {
      if (event.pointerId !== drawing) return;
      drawing = null;
      last = null;
    };
    element.addEventListener("pointerdown", down);
    element.addEventListener("pointermove", move);
    element.addEventListener("pointerup", up);
    element.addEventListener("pointercancel", up);
    handle.current = {
      clear() {
        blank();
        context.fillStyle = INK;
        inked = 0;
      },
      png: () => element.toDataURL("image/png").split(",", 2)[1],
    };
    return () => {
      element.removeEventListener("pointerdown", down);
      element.removeEventListener("pointermove", move);
      element.removeEventListener("pointerup", up);
      element.removeEventListener("pointercancel", up);
      handle.current = null;
    };
  }, []);
  return (
    <div class="pad">
      <canvas ref={canvas} class="pad-canvas" role="img" aria-label={label} data-testid="signature-pad" />
    </div>
  );
}

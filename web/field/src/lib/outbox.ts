// The outbox: visits and photos saved on the phone, sent to POST visits/sync and
// POST visits/{id}/photos. Nothing is ever dropped silently:
// - a visit is written with its client_id when it is saved, before any network;
// - visits go in the order they were saved, in batches within the server's limit;
// - "created" and "duplicate" (a retry of something already stored) both mean sent;
// - "rejected" stays on the phone with the server's message until the inspector fixes and resends it;
// - a network failure or a server error leaves everything pending, retried with exponential backoff;
// - photos go once their visit has an id; so does the shop manager's acknowledgement (signature or
//   refusal), to POST enforcement/visits/{id}/acknowledgement, idempotent by its own client_id.
// Closing the app mid-send is safe: nothing is marked sent before the server's answer, and a resend
// of the same client_id is answered "duplicate".
import { ApiError } from "@shared/api";
import type { FieldDb, OutboxAck, OutboxPhoto, OutboxVisit } from "./db";
import type { AcknowledgementPayload, AcknowledgementResult, SyncError, SyncResult, VisitPayload } from "./types";

export interface Transport {
  syncVisits(visits: VisitPayload[]): Promise<SyncResult[]>;
  uploadPhoto(visitId: number, photo: OutboxPhoto): Promise<{ id: number }>;
  sendAcknowledgement(visitId: number, acknowledgement: AcknowledgementPayload): Promise<AcknowledgementResult>;
}

export interface SendOptions {
  now?: () => number;
  random?: () => number;
  batchSize?: number;
  language?: string;
}

export interface SendReport {
  sent: number;
  duplicates: number;
  rejected: number;
  photosSent: number;
  photosRejected: number;
  acksSent: number;
  acksRejected: number;
  failed: boolean;
  error: string | null;
}

export const DEFAULT_BATCH = 50;
export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_MAX_MS = 10 * 60_000;

/** Delay before attempt number `attempts + 1`: 5 s, 10 s, 20 s ... capped at 10 min, ±20% jitter. */
export function backoffDelay(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export function newClientId(): string {
  return crypto.randomUUID();
}

/** Store a visit and its photos in one transaction: from here on it survives reloads and crashes. */
export async function saveVisit(db: FieldDb, visit: Omit<OutboxVisit, "seq" | "status" | "attempts" | "next_attempt_at" | "last_error" | "rejection" | "visit_id" | "sent_at">, photos: Omit<OutboxPhoto, "seq" | "status" | "attempts" | "next_attempt_at" | "last_error" | "photo_id">[] = []): Promise<void> {
  await db.transaction("rw", db.outbox, db.photos, async () => {
    await db.outbox.add({ ...visit, status: "pending", attempts: 0, next_attempt_at: 0, last_error: null, rejection: null, visit_id: null, sent_at: null });
    for (const photo of photos) {
      await db.photos.add({ ...photo, status: "pending", attempts: 0, next_attempt_at: 0, last_error: null, photo_id: null });
    }
  });
}

/** A rejected visit, corrected by the inspector: the same client_id (never stored) goes again. */
export async function resubmitVisit(db: FieldDb, clientId: string, payload: VisitPayload, extraPhotos: Omit<OutboxPhoto, "seq" | "status" | "attempts" | "next_attempt_at" | "last_error" | "photo_id">[] = []): Promise<void> {
  await db.transaction("rw", db.outbox, db.photos, async () => {
    const visit = await db.outbox.where("client_id").equals(clientId).first();
    if (!visit) throw new Error(`no visit ${clientId}`);
    if (visit.status === "sent") throw new Error("a sent visit cannot be changed");
    await db.outbox.update(visit.seq!, { payload: { ...payload, client_id: clientId }, status: "pending", attempts: 0, next_attempt_at: 0, rejection: null, last_error: null });
    for (const photo of extraPhotos) {
      await db.photos.add({ ...photo, status: "pending", attempts: 0, next_attempt_at: 0, last_error: null, photo_id: null });
    }
  });
}

/** The manager's signature or refusal, stored before any network; sent once its visit has an id.
 * One per visit: recording it again (before it was sent) replaces the first, keeping its client_id. */
export async function saveAcknowledgement(db: FieldDb, ack: Omit<OutboxAck, "seq" | "client_id" | "status" | "attempts" | "next_attempt_at" | "last_error" | "ack_id" | "signature_sha256">): Promise<string> {
  return db.transaction("rw", db.acks, async () => {
    const existing = await db.acks.where("visit_client_id").equals(ack.visit_client_id).first();
    if (existing?.status === "sent") throw new Error("this visit's acknowledgement is already sent");
    const row: OutboxAck = { ...ack, client_id: existing?.client_id ?? newClientId(), status: "pending", attempts: 0, next_attempt_at: 0, last_error: null, ack_id: null, signature_sha256: null };
    if (existing) await db.acks.update(existing.seq!, row);
    else await db.acks.add(row);
    return row.client_id;
  });
}

export async function pendingCount(db: FieldDb): Promise<{ visits: number; photos: number; rejected: number; acks: number }> {
  const [visits, photos, rejected, acks] = await Promise.all([
    db.outbox.where("status").equals("pending").count(),
    db.photos.where("status").equals("pending").count(),
    db.outbox.where("status").equals("rejected").count(),
    db.acks.where("status").equals("pending").count(),
  ]);
  return { visits, photos, rejected, acks };
}

/** "Send now": make everything due at once (the inspector asked; backoff is for automatic retries). */
export async function makeDue(db: FieldDb): Promise<void> {
  await db.transaction("rw", db.outbox, db.photos, db.acks, async () => {
    await db.outbox.where("status").equals("pending").modify({ next_attempt_at: 0 });
    await db.photos.where("status").equals("pending").modify({ next_attempt_at: 0 });
    await db.acks.where("status").equals("pending").modify({ next_attempt_at: 0 });
  });
}

function transient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return error.status === 0 || error.status >= 500 || error.status === 429 || error.status === 408 || error.status === 401;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Errors only about the round stop: the stop was cancelled or its round reassigned away. The visit
 * still happened at the shop, so it is sent again without the stop rather than kept back. */
function onlyStopErrors(errors: SyncError[]): boolean {
  return errors.length > 0 && errors.every((error) => error.loc[0] === "round_stop_id");
}

function rejectionMessage(errors: SyncError[]): string {
  return errors.map((error) => error.msg).join(" · ") || "rejected";
}

let running: Promise<SendReport> | null = null;

/** Send what is due; one run at a time (a second call while one runs gets the same run). */
export function sendOutbox(db: FieldDb, transport: Transport, options: SendOptions = {}): Promise<SendReport> {
  if (!running) {
    running = sendOnce(db, transport, options).finally(() => {
      running = null;
    });
  }
  return running;
}

async function sendOnce(db: FieldDb, transport: Transport, options: SendOptions): Promise<SendReport> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  let batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const report: SendReport = { sent: 0, duplicates: 0, rejected: 0, photosSent: 0, photosRejected: 0, acksSent: 0, acksRejected: 0, failed: false, error: null };

  // Visits, oldest first, batch by batch.
  for (;;) {
    const due = (await db.outbox.where("status").equals("pending").sortBy("seq")).filter((visit) => visit.next_attempt_at <= now());
    if (due.length === 0) break;
    const batch = due.slice(0, batchSize);
    let results: SyncResult[];
    try {
      results = await transport.syncVisits(batch.map((visit) => visit.payload));
    } catch (error) {
      if (!transient(error) && batch.length > 1) {
        // The server refused the whole batch (not a network problem): go on one at a time, so one
        // visit it cannot read does not hold back the others.
        batchSize = 1;
        continue;
      }
      if (!transient(error)) {
        const visit = batch[0];
        await db.outbox.update(visit.seq!, {
          status: "rejected",
          rejection: { message: describe(error), errors: [], language: options.language ?? "ar" },
          last_error: describe(error),
        });
        report.rejected += 1;
        continue;
      }
      await db.transaction("rw", db.outbox, async () => {
        for (const visit of batch) {
          const attempts = visit.attempts + 1;
          await db.outbox.update(visit.seq!, { attempts, next_attempt_at: now() + backoffDelay(attempts, random), last_error: describe(error) });
        }
      });
      report.failed = true;
      report.error = describe(error);
      return report;
    }
    const byClientId = new Map(results.map((result) => [result.client_id, result]));
    await db.transaction("rw", db.outbox, async () => {
      for (const visit of batch) {
        const result = byClientId.get(visit.client_id);
        if (!result) {
          // The server did not answer for this one (should not happen): retry it later.
          const attempts = visit.attempts + 1;
          await db.outbox.update(visit.seq!, { attempts, next_attempt_at: now() + backoffDelay(attempts, random), last_error: "no answer" });
          continue;
        }
        if (result.status === "created" || result.status === "duplicate") {
          await db.outbox.update(visit.seq!, { status: "sent", visit_id: result.visit_id, sent_at: now(), last_error: null, rejection: null });
          if (result.status === "created") report.sent += 1;
          else report.duplicates += 1;
        } else if (visit.payload.round_stop_id !== null && onlyStopErrors(result.errors)) {
          await db.outbox.update(visit.seq!, { payload: { ...visit.payload, round_stop_id: null }, next_attempt_at: 0, last_error: rejectionMessage(result.errors) });
        } else {
          await db.outbox.update(visit.seq!, {
            status: "rejected",
            rejection: { message: rejectionMessage(result.errors), errors: result.errors, language: options.language ?? "ar" },
            last_error: rejectionMessage(result.errors),
          });
          report.rejected += 1;
        }
      }
    });
  }

  // Photos of visits that have an id, in the order they were taken.
  const photos = (await db.photos.where("status").equals("pending").sortBy("seq")).filter((photo) => photo.next_attempt_at <= now());
  for (const photo of photos) {
    const visit = await db.outbox.where("client_id").equals(photo.visit_client_id).first();
    if (!visit || visit.status !== "sent" || visit.visit_id === null) continue; // waits for its visit
    try {
      const stored = await transport.uploadPhoto(visit.visit_id, photo);
      await db.photos.update(photo.seq!, { status: "sent", photo_id: stored.id, last_error: null });
      report.photosSent += 1;
    } catch (error) {
      if (transient(error)) {
        const attempts = photo.attempts + 1;
        await db.photos.update(photo.seq!, { attempts, next_attempt_at: now() + backoffDelay(attempts, random), last_error: describe(error) });
        report.failed = true;
        report.error = describe(error);
        if (error instanceof ApiError && error.network) break; // offline: the rest would fail too
      } else {
        await db.photos.update(photo.seq!, { status: "rejected", last_error: describe(error) });
        report.photosRejected += 1;
      }
    }
  }

  // The managers' acknowledgements of visits that have an id: the same client_id on every attempt,
  // so a replay whose first answer was lost is answered 200 with the stored one.
  const acks = (await db.acks.where("status").equals("pending").sortBy("seq")).filter((ack) => ack.next_attempt_at <= now());
  for (const ack of acks) {
    const visit = await db.outbox.where("client_id").equals(ack.visit_client_id).first();
    if (!visit || visit.status !== "sent" || visit.visit_id === null) continue; // waits for its visit
    try {
      const stored = await transport.sendAcknowledgement(visit.visit_id, {
        client_id: ack.client_id,
        kind: ack.kind,
        signer_name: ack.signer_name,
        signature_png_base64: ack.signature_png_base64,
        captured_at: ack.captured_at,
      });
      await db.acks.update(ack.seq!, { status: "sent", ack_id: stored.id, signature_sha256: stored.signature_sha256 || null, last_error: null });
      report.acksSent += 1;
    } catch (error) {
      if (transient(error)) {
        const attempts = ack.attempts + 1;
        await db.acks.update(ack.seq!, { attempts, next_attempt_at: now() + backoffDelay(attempts, random), last_error: describe(error) });
        report.failed = true;
        report.error = describe(error);
        if (error instanceof ApiError && error.network) break;
      } else {
        await db.acks.update(ack.seq!, { status: "rejected", last_error: describe(error) });
        report.acksRejected += 1;
      }
    }
  }
  return report;
}

/** The earliest time something pending becomes due (for the retry timer), or null. */
export async function nextDue(db: FieldDb): Promise<number | null> {
  const visits = await db.outbox.where("status").equals("pending").toArray();
  const photos = await db.photos.where("status").equals("pending").toArray();
  const acks = await db.acks.where("status").equals("pending").toArray();
  const times = [...visits, ...photos, ...acks].map((entry) => entry.next_attempt_at);
  return times.length ? Math.min(...times) : null;
}

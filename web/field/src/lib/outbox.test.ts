import "fake-indexeddb/auto";
import { beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "@shared/api";
import { FieldDb, type OutboxPhoto } from "./db";
import { BACKOFF_MAX_MS, backoffDelay, makeDue, pendingCount, resubmitVisit, saveAcknowledgement, saveVisit, sendOutbox, type Transport } from "./outbox";
import type { AcknowledgementPayload, SyncResult, VisitPayload } from "./types";

let db: FieldDb;
let clock: number;
const now = () => clock;
const noJitter = () => 0.5; // 0.8 + 0.4 * 0.5 = exactly the base delay

function payload(clientId: string, overrides: Partial<VisitPayload> = {}): VisitPayload {
  return {
    client_id: clientId,
    establishment_id: 7,
    round_stop_id: 3,
    checklist_version_id: 1,
    started_at: "2026-11-30T08:00:00+03:00",
    finished_at: "2026-11-30T08:05:00+03:00",
    location: { lat: 26.4, lon: 50.1, accuracy_m: 8 },
    outcome: "compliant",
    answers: [],
    notes: "",
    ...overrides,
  };
}

async function save(clientId: string, photoIds: string[] = [], overrides: Partial<VisitPayload> = {}) {
  await saveVisit(
    db,
    { client_id: clientId, payload: payload(clientId, overrides), saved_at: clock, shop: { name_ar: "م", name_en: "S" }, round_id: 1, stop_id: 3, fixes: { start: null, end: null } },
    photoIds.map((id) => ({ client_id: id, visit_client_id: clientId, item_code: "FH-06", blob: new Blob(["x"]), width: 10, height: 10, saved_at: clock })),
  );
}

/** A fake server that stores by client_id like the real one, and can be told to fail. */
class FakeServer implements Transport {
  stored = new Map<string, number>();
  photos = new Map<string, number>();
  batches: string[][] = [];
  uploads: Array<{ visitId: number; clientId: string }> = [];
  fail: ApiError | null = null;
  reject = new Map<string, SyncResult["errors"]>();
  async syncVisits(visits: VisitPayload[]): Promise<SyncResult[]> {
    this.batches.push(visits.map((visit) => visit.client_id));
    if (this.fail) throw this.fail;
    return visits.map((visit) => {
      const errors = this.reject.get(visit.client_id);
      if (errors && (visit.round_stop_id !== null || errors.some((error) => error.loc[0] !== "round_stop_id")))
        return { client_id: visit.client_id, status: "rejected", visit_id: null, errors };
      const existing = this.stored.get(visit.client_id);
      if (existing) return { client_id: visit.client_id, status: "duplicate", visit_id: existing, errors: [] };
      const id = 100 + this.stored.size;
      this.stored.set(visit.client_id, id);
      return { client_id: visit.client_id, status: "created", visit_id: id, errors: [] };
    });
  }
  async uploadPhoto(visitId: number, photo: OutboxPhoto) {
    this.uploads.push({ visitId, clientId: photo.client_id });
    if (this.fail) throw this.fail;
    const id = this.photos.get(photo.client_id) ?? 500 + this.photos.size;
    this.photos.set(photo.client_id, id);
    return { id };
  }
  acks = new Map<string, { visitId: number; id: number }>();
  ackCalls: Array<{ visitId: number; clientId: string }> = [];
  ackFail: ApiError | null = null;
  async sendAcknowledgement(visitId: number, ack: AcknowledgementPayload) {
    this.ackCalls.push({ visitId, clientId: ack.client_id });
    if (this.ackFail) throw this.ackFail;
    const id = this.acks.get(ack.client_id)?.id ?? 700 + this.acks.size;
    this.acks.set(ack.client_id, { visitId, id });
    return { id, client_id: ack.client_id, visit_id: visitId, kind: ack.kind, signer_name: ack.signer_name, signature_sha256: ack.kind === "signed" ? "ab".repeat(32) : "" };
  }
}

let server: FakeServer;

beforeEach(async () => {
  db = new FieldDb(`test-${Math.random()}`);
  await db.open();
  clock = 1_000_000;
  server = new FakeServer();
});

describe("ordering", () => {
  it("sends visits in the order they were saved, in batches within the limit", async () => {
    for (const id of ["a", "b", "c", "d", "e"]) await save(id);
    const report = await sendOutbox(db, server, { now, batchSize: 2 });
    expect(server.batches).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(report.sent).toBe(5);
    expect(await pendingCount(db)).toEqual({ visits: 0, photos: 0, rejected: 0, acks: 0 });
  });

  it("keeps a visit written with its client_id before any network", async () => {
    await save("a");
    const stored = await db.outbox.where("client_id").equals("a").first();
    expect(stored?.status).toBe("pending");
    expect(stored?.payload.client_id).toBe("a");
  });
});

describe("retry and backoff", () => {
  it("leaves everything pending on a network failure and retries only when due", async () => {
    await save("a");
    await save("b");
    server.fail = new ApiError(0, "network", "Failed to fetch");
    const failed = await sendOutbox(db, server, { now, random: noJitter });
    expect(failed.failed).toBe(true);
    const [a] = await db.outbox.toArray();
    expect(a.status).toBe("pending");
    expect(a.attempts).toBe(1);
    expect(a.next_attempt_at).toBe(clock + 5_000);

    server.fail = null;
    await sendOutbox(db, server, { now, random: noJitter });
    expect(server.batches).toHaveLength(1); // not due yet: nothing sent
    clock += 5_000;
    const report = await sendOutbox(db, server, { now, random: noJitter });
    expect(report.sent).toBe(2);
    expect(server.stored.size).toBe(2);
  });

  it("doubles the delay on each failure up to a cap, with jitter inside ±20%", () => {
    expect([1, 2, 3, 4].map((attempts) => backoffDelay(attempts, noJitter))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(backoffDelay(30, noJitter)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(1, () => 0)).toBe(4_000);
    expect(backoffDelay(1, () => 1)).toBe(6_000);
  });

  it("treats a server error (5xx) like a network failure", async () => {
    await save("a");
    server.fail = new ApiError(503, "http_503", "Service Unavailable");
    await sendOutbox(db, server, { now, random: noJitter });
    expect((await db.outbox.toArray())[0]).toMatchObject({ status: "pending", attempts: 1 });
    server.fail = new ApiError(503, "http_503", "Service Unavailable");
    clock += 5_000;
    await sendOutbox(db, server, { now, random: noJitter });
    expect((await db.outbox.toArray())[0]).toMatchObject({ status: "pending", attempts: 2, next_attempt_at: clock + 10_000 });
  });

  it("'send now' makes a backed-off visit due at once", async () => {
    await save("a");
    server.fail = new ApiError(0, "network", "offline");
    await sendOutbox(db, server, { now });
    server.fail = null;
    await makeDue(db);
    expect((await sendOutbox(db, server, { now })).sent).toBe(1);
  });
});

describe("duplicate counts as sent", () => {
  it("marks a visit the server already holds as sent, with its id, and never sends it again", async () => {
    server.stored.set("a", 42); // stored by an earlier attempt whose answer was lost
    await save("a");
    const report = await sendOutbox(db, server, { now });
    expect(report.duplicates).toBe(1);
    expect((await db.outbox.toArray())[0]).toMatchObject({ status: "sent", visit_id: 42 });
    await sendOutbox(db, server, { now });
    expect(server.batches).toHaveLength(1);
  });
});

describe("rejected", () => {
  it("keeps a rejected visit with the server's message; the others of the batch are sent", async () => {
    await save("a");
    await save("b");
    server.reject.set("a", [{ loc: ["checklist_version_id"], msg: "This checklist version is retired.", type: "retired_version" }]);
    const report = await sendOutbox(db, server, { now, language: "en" });
    expect(report).toMatchObject({ sent: 1, rejected: 1 });
    const a = await db.outbox.where("client_id").equals("a").first();
    expect(a?.status).toBe("rejected");
    expect(a?.rejection).toMatchObject({ message: "This checklist version is retired.", language: "en" });
    expect(await pendingCount(db)).toEqual({ visits: 0, photos: 0, rejected: 1, acks: 0 });

    // Fixed by the inspector and resent under the same client_id.
    server.reject.delete("a");
    await resubmitVisit(db, "a", payload("a", { checklist_version_id: 2 }));
    await sendOutbox(db, server, { now });
    expect(await db.outbox.where("client_id").equals("a").first()).toMatchObject({ status: "sent", rejection: null });
    expect(server.stored.has("a")).toBe(true);
  });

  it("sends a visit at a stop cancelled meanwhile again without the stop instead of holding it back", async () => {
    await save("a");
    server.reject.set("a", [{ loc: ["round_stop_id"], msg: "The round stop was cancelled.", type: "round_stop_cancelled" }]);
    await sendOutbox(db, server, { now });
    const a = await db.outbox.where("client_id").equals("a").first();
    expect(a).toMatchObject({ status: "sent" });
    expect(a?.payload.round_stop_id).toBeNull();
    expect(server.batches).toEqual([["a"], ["a"]]);
  });

  it("goes on one at a time when the server refuses a whole batch", async () => {
    await save("a");
    await save("b");
    let calls = 0;
    const picky: Transport = {
      syncVisits: async (visits) => {
        calls += 1;
        if (visits.length > 1) throw new ApiError(413, "too_large", "Request body too large");
        return server.syncVisits(visits);
      },
      uploadPhoto: (id, photo) => server.uploadPhoto(id, photo),
      sendAcknowledgement: (id, ack) => server.sendAcknowledgement(id, ack),
    };
    const report = await sendOutbox(db, picky, { now });
    expect(report.sent).toBe(2);
    expect(calls).toBe(3);
  });
});

describe("photos after their visit", () => {
  it("sends no photo before its visit has an id, then sends it with that id", async () => {
    await save("a", ["p1", "p2"]);
    server.fail = new ApiError(0, "network", "offline");
    await sendOutbox(db, server, { now });
    expect(server.uploads).toEqual([]);

    server.fail = null;
    await makeDue(db);
    const report = await sendOutbox(db, server, { now });
    expect(report.photosSent).toBe(2);
    const visitId = server.stored.get("a");
    expect(server.uploads).toEqual([
      { visitId, clientId: "p1" },
      { visitId, clientId: "p2" },
    ]);
    expect(await pendingCount(db)).toEqual({ visits: 0, photos: 0, rejected: 0, acks: 0 });
  });

  it("keeps the photos of a rejected visit until the visit is sent", async () => {
    await save("a", ["p1"]);
    server.reject.set("a", [{ loc: ["outcome"], msg: "no", type: "outcome_mismatch" }]);
    await sendOutbox(db, server, { now });
    expect(server.uploads).toEqual([]);
    expect((await db.photos.toArray())[0].status).toBe("pending");
  });

  it("retries a photo whose upload failed, and marks one the server refuses", async () => {
    await save("a", ["p1", "p2"]);
    await sendOutbox(db, { syncVisits: (v) => server.syncVisits(v), uploadPhoto: async () => { throw new ApiError(0, "network", "offline"); }, sendAcknowledgement: (id, ack) => server.sendAcknowledgement(id, ack) }, { now, random: noJitter });
    expect((await db.photos.toArray()).map((photo) => [photo.status, photo.attempts])).toEqual([["pending", 1], ["pending", 0]]);
    clock += 5_000;
    await sendOutbox(db, { syncVisits: (v) => server.syncVisits(v), uploadPhoto: async (_id, photo) => { if (photo.client_id === "p2") throw new ApiError(413, "too_large", "The photo is too large."); return { id: 9 }; }, sendAcknowledgement: (id, ack) => server.sendAcknowledgement(id, ack) }, { now });
    const photos = await db.photos.toArray();
    expect(photos.map((photo) => photo.status)).toEqual(["sent", "rejected"]);
    expect(photos[1].last_error).toBe("The photo is too large.");
  });
});

describe("the manager's acknowledgement after its visit", () => {
  const signed = (visitClientId: string) => ({ visit_client_id: visitClientId, kind: "signed" as const, signer_name: "Ahmad", signature_png_base64: "iVBORw0KGgo=", captured_at: "2026-11-30T08:06:00+03:00", saved_at: clock });

  it("waits for its visit's id, then goes once with the same client_id on every attempt", async () => {
    await save("a");
    const clientId = await saveAcknowledgement(db, signed("a"));
    expect(await pendingCount(db)).toEqual({ visits: 1, photos: 0, rejected: 0, acks: 1 });
    server.fail = new ApiError(0, "network", "offline");
    await sendOutbox(db, server, { now });
    expect(server.ackCalls).toEqual([]);

    server.fail = null;
    server.ackFail = new ApiError(0, "network", "offline");
    await makeDue(db);
    await sendOutbox(db, server, { now, random: noJitter });
    expect((await db.acks.toArray())[0]).toMatchObject({ status: "pending", attempts: 1, next_attempt_at: clock + 5_000 });

    server.ackFail = null;
    clock += 5_000;
    const report = await sendOutbox(db, server, { now });
    expect(report.acksSent).toBe(1);
    expect(server.ackCalls).toEqual([
      { visitId: server.stored.get("a"), clientId },
      { visitId: server.stored.get("a"), clientId },
    ]);
    expect((await db.acks.toArray())[0]).toMatchObject({ status: "sent", ack_id: 700, signature_sha256: "ab".repeat(32) });
    await sendOutbox(db, server, { now });
    expect(server.ackCalls).toHaveLength(2);
    expect(await pendingCount(db)).toEqual({ visits: 0, photos: 0, rejected: 0, acks: 0 });
  });

  it("recorded again before it was sent, replaces the first under the same client_id", async () => {
    await save("a");
    const first = await saveAcknowledgement(db, signed("a"));
    const second = await saveAcknowledgement(db, { ...signed("a"), kind: "refused", signature_png_base64: null, signer_name: "" });
    expect(second).toBe(first);
    expect(await db.acks.toArray()).toHaveLength(1);
    expect((await db.acks.toArray())[0]).toMatchObject({ kind: "refused", signature_png_base64: null });
  });

  it("marks one the server refuses, with its message", async () => {
    await save("a");
    await saveAcknowledgement(db, signed("a"));
    server.ackFail = new ApiError(409, "acknowledgement_exists", "This visit already has an acknowledgement.");
    const report = await sendOutbox(db, server, { now });
    expect(report.acksRejected).toBe(1);
    expect((await db.acks.toArray())[0]).toMatchObject({ status: "rejected", last_error: "This visit already has an acknowledgement." });
  });
});

describe("one run at a time", () => {
  it("a second send while one runs joins it instead of sending the same batch twice", async () => {
    await save("a");
    const [first, second] = await Promise.all([sendOutbox(db, server, { now }), sendOutbox(db, server, { now })]);
    expect(first).toBe(second);
    expect(server.batches).toEqual([["a"]]);
  });
});

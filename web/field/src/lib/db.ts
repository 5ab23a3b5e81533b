// Everything the app keeps on the phone, in IndexedDB (Dexie): the rounds, checklists and shop cards
// it needs offline, and the outbox of visits and photos waiting to be sent. Sign-out deletes it all.
import Dexie, { type EntityTable } from "dexie";
import type { ChecklistVersion, Establishment, Finding, Fix, Notification, Round, SyncError, VisitListItem, VisitPayload } from "./types";

export type VisitStatus = "pending" | "sent" | "rejected";
export type PhotoStatus = "pending" | "sent" | "rejected";

/** A visit saved on the phone. Written once, with its client_id, at the moment it is saved. */
export interface OutboxVisit {
  seq?: number;
  client_id: string;
  payload: VisitPayload;
  status: VisitStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  /** The server's answer when it refused the visit, in the language the app asked for. */
  rejection: { message: string; errors: SyncError[]; language: string } | null;
  visit_id: number | null;
  saved_at: number;
  sent_at: number | null;
  shop: { name_ar: string; name_en: string };
  round_id: number | null;
  /** The round stop it was made at (kept when a cancelled stop is dropped from the payload). */
  stop_id: number | null;
  fixes: { start: Fix | null; end: Fix | null };
}

export interface OutboxPhoto {
  seq?: number;
  client_id: string;
  visit_client_id: string;
  item_code: string | null;
  blob: Blob;
  width: number;
  height: number;
  status: PhotoStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  photo_id: number | null;
  saved_at: number;
}

export type AckStatus = "pending" | "sent" | "rejected";

/** The shop manager's acknowledgement of a visit (a drawn signature and a name, or a refusal to
 * sign), saved on the phone with its client_id and sent once its visit has a server id. */
export interface OutboxAck {
  seq?: number;
  client_id: string;
  visit_client_id: string;
  kind: "signed" | "refused";
  signer_name: string;
  /** The PNG drawn on the screen, base64 without the data: prefix; null for a refusal. */
  signature_png_base64: string | null;
  captured_at: string;
  status: AckStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  ack_id: number | null;
  signature_sha256: string | null;
  saved_at: number;
}

export interface ShopCard {
  id: number;
  establishment: Establishment | null;
  open_findings: Finding[];
  last_visit: VisitListItem | null;
  fetched_at: number;
}

export interface KeyValue {
  key: string;
  value: unknown;
}

export class FieldDb extends Dexie {
  outbox!: EntityTable<OutboxVisit, "seq">;
  photos!: EntityTable<OutboxPhoto, "seq">;
  acks!: EntityTable<OutboxAck, "seq">;
  rounds!: EntityTable<Round, "id">;
  versions!: EntityTable<ChecklistVersion, "id">;
  shops!: EntityTable<ShopCard, "id">;
  inbox!: EntityTable<Notification, "id">;
  kv!: EntityTable<KeyValue, "key">;

  constructor(name = "jawla-field", options?: ConstructorParameters<typeof Dexie>[1]) {
    super(name, options);
    this.version(1).stores({
      outbox: "++seq, &client_id, status",
      photos: "++seq, &client_id, visit_client_id, status",
      rounds: "id, date",
      versions: "id, checklist_id",
      shops: "id",
      inbox: "id, created_at",
      kv: "key",
    });
    this.version(2).stores({ acks: "++seq, &client_id, &visit_client_id, status" });
  }

  async getValue<T>(key: string): Promise<T | undefined> {
    return (await this.kv.get(key))?.value as T | undefined;
  }

  async setValue(key: string, value: unknown): Promise<void> {
    await this.kv.put({ key, value });
  }

  /** What sign-out would lose: visits, photos and acknowledgements not yet accepted by the server. */
  async unsent(): Promise<{ visits: number; photos: number; acks: number }> {
    const visits = await this.outbox.where("status").anyOf("pending", "rejected").count();
    const photos = await this.photos.where("status").anyOf("pending", "rejected").count();
    const acks = await this.acks.where("status").anyOf("pending", "rejected").count();
    return { visits, photos, acks };
  }

  async wipe(): Promise<void> {
    await this.transaction("rw", [this.outbox, this.photos, this.acks, this.rounds, this.versions, this.shops, this.inbox, this.kv], async () => {
      await Promise.all([this.outbox.clear(), this.photos.clear(), this.acks.clear(), this.rounds.clear(), this.versions.clear(), this.shops.clear(), this.inbox.clear(), this.kv.clear()]);
    });
  }
}

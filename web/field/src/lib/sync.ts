// Pulling what the phone needs from the API: the rounds by delta sync (the cursor kept in
// IndexedDB), the checklist versions they use, the shop cards (open findings, last result), the
// deployment's config and the inbox. Everything lands in IndexedDB so the app works offline.
import type { Api } from "@shared/api";
import type { FieldDb, ShopCard } from "./db";
import type { ChecklistVersion, ClientConfig, Establishment, Finding, MeRounds, Notification, Page, Round, VisitListItem } from "./types";

const CARD_MAX_AGE_MS = 3 * 3600_000;

export async function syncRounds(db: FieldDb, api: Api): Promise<{ changed: number; removed: number }> {
  const cursor = await db.getValue<string>("rounds_cursor");
  const answer = await api.get<MeRounds>("me/rounds", { updated_since: cursor });
  await db.transaction("rw", db.rounds, db.kv, async () => {
    if (answer.full) await db.rounds.clear();
    await db.rounds.bulkPut(answer.rounds);
    // Rounds reassigned away from this inspector: gone from the phone (a visit already saved there
    // stays in the outbox and is sent without its stop).
    if (answer.removed_round_ids.length) await db.rounds.bulkDelete(answer.removed_round_ids);
    await db.setValue("rounds_cursor", answer.cursor);
    await db.setValue("rounds_synced_at", Date.now());
  });
  await cacheVersions(db, api, answer.rounds);
  await cacheShopCards(db, api, (await db.rounds.toArray()).flatMap((round) => round.stops.map((stop) => stop.establishment.id)), answer.full);
  return { changed: answer.rounds.length, removed: answer.removed_round_ids.length };
}

async function cacheVersions(db: FieldDb, api: Api, rounds: Round[]): Promise<void> {
  const wanted = new Set(rounds.map((round) => round.checklist_version_id).filter((id): id is number => id !== null));
  for (const id of wanted) {
    if (await db.versions.get(id)) continue; // published versions never change
    await db.versions.put(await api.get<ChecklistVersion>(`checklists/versions/${id}`));
  }
}

/** The current published version of a checklist, fetched now (used to fix a visit made on a retired one). */
export async function refreshChecklist(db: FieldDb, api: Api, checklistId: number): Promise<ChecklistVersion | null> {
  const detail = await api.get<{ published_version_detail: ChecklistVersion | null }>(`checklists/${checklistId}`);
  if (detail.published_version_detail) await db.versions.put(detail.published_version_detail);
  return detail.published_version_detail;
}

export async function cacheShopCards(db: FieldDb, api: Api, establishmentIds: number[], force = false): Promise<void> {
  const unique = [...new Set(establishmentIds)];
  const stale: number[] = [];
  for (const id of unique) {
    const card = await db.shops.get(id);
    if (force || !card || Date.now() - card.fetched_at > CARD_MAX_AGE_MS) stale.push(id);
  }
  // A few at a time: a round has tens of stops, and the phone's connection is often poor.
  const queue = [...stale];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        await db.shops.put(await fetchShopCard(api, id));
      } catch {
        // Kept for the next sync; the visit form works without a card.
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}

export async function fetchShopCard(api: Api, id: number, establishment?: Establishment): Promise<ShopCard> {
  const [shop, findings, visits] = await Promise.all([
    establishment ? Promise.resolve(establishment) : api.get<Establishment>(`establishments/${id}`),
    api.get<Page<Finding>>("findings", { establishment: id, status: "open", limit: 50 }),
    api.get<Page<VisitListItem>>("visits", { establishment: id, limit: 1 }),
  ]);
  return { id, establishment: shop, open_findings: findings.items, last_visit: visits.items[0] ?? null, fetched_at: Date.now() };
}

export async function syncConfig(db: FieldDb, api: Api): Promise<ClientConfig> {
  const config = await api.get<ClientConfig>("config");
  await db.setValue("config", config);
  return config;
}

export async function syncInbox(db: FieldDb, api: Api): Promise<number> {
  const page = await api.get<Page<Notification>>("notifications", { limit: 50 });
  await db.transaction("rw", db.inbox, async () => {
    await db.inbox.clear();
    await db.inbox.bulkPut(page.items);
  });
  return page.items.filter((notification) => !notification.read_at).length;
}

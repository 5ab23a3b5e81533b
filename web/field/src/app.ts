// The app's services wired together: the database, the API client, the language, the outbox
// triggers (open, reconnect, background sync, timer, "send now") and a small change notifier.
import { useEffect, useState } from "preact/hooks";
import { liveQuery } from "dexie";
import { Api, ApiError } from "@shared/api";
import { localAuthStore } from "@shared/auth-storage";
import { applyLanguage, type Language, makeTranslator, storedLanguage, storeLanguage } from "@shared/i18n";
import { FieldDb, type OutboxPhoto } from "./lib/db";
import { makeDue, nextDue, sendOutbox, type SendReport, type Transport } from "./lib/outbox";
import { disablePush } from "./lib/push";
import { syncConfig, syncInbox, syncRounds } from "./lib/sync";
import type { AcknowledgementPayload, AcknowledgementResult, ClientConfig, SyncResult, VisitPayload } from "./lib/types";
import { messages } from "./messages";

export const db = new FieldDb();
export const authStore = localAuthStore("field");

type Listener = () => void;
const listeners = new Set<Listener>();
function changed() {
  for (const listener of listeners) listener();
}

export const state = {
  language: storedLanguage("field") as Language,
  online: navigator.onLine,
  sending: false,
  syncing: false,
  lastSendReport: null as SendReport | null,
  syncError: null as string | null,
  sessionExpired: false,
  toast: null as string | null,
};

export function setState(patch: Partial<typeof state>) {
  Object.assign(state, patch);
  changed();
}

export function useAppState(): typeof state {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const listener = () => setVersion((version) => version + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return state;
}

/** Re-renders when the IndexedDB data the query reads changes (Dexie liveQuery). */
export function useLive<T>(query: () => Promise<T>, deps: unknown[] = [], initial?: T): T | undefined {
  const [value, setValue] = useState<T | undefined>(initial);
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({ next: setValue, error: () => undefined });
    return () => subscription.unsubscribe();
  }, deps);
  return value;
}

export const t = makeTranslator(messages, () => state.language);

export function setLanguage(language: Language) {
  storeLanguage("field", language);
  applyLanguage(language);
  document.title = t("app_name");
  setState({ language });
}

export const api = new Api({
  store: authStore,
  language: () => state.language,
  onSignedOut: () => setState({ sessionExpired: true }),
});

export const transport: Transport = {
  async syncVisits(visits: VisitPayload[]): Promise<SyncResult[]> {
    return (await api.post<{ results: SyncResult[] }>("visits/sync", { visits })).results;
  },
  async uploadPhoto(visitId: number, photo: OutboxPhoto) {
    const form = new FormData();
    form.append("file", photo.blob, `${photo.client_id}.jpg`);
    form.append("client_id", photo.client_id);
    if (photo.item_code) form.append("item_code", photo.item_code);
    return api.upload<{ id: number }>(`visits/${visitId}/photos`, form);
  },
  async sendAcknowledgement(visitId: number, acknowledgement: AcknowledgementPayload): Promise<AcknowledgementResult> {
    return api.post<AcknowledgementResult>(`enforcement/visits/${visitId}/acknowledgement`, acknowledgement);
  },
};

export async function config(): Promise<ClientConfig | undefined> {
  return db.getValue<ClientConfig>("config");
}

let retryTimer: ReturnType<typeof setTimeout> | undefined;

/** Send what is due now, then arm a timer for the next retry. */
export async function sendNow(options: { force?: boolean } = {}): Promise<SendReport | null> {
  if (!authStore.load()) return null;
  if (options.force) await makeDue(db);
  setState({ sending: true });
  try {
    const batch = (await config())?.visit_sync_max_batch ?? 50;
    const report = await sendOutbox(db, transport, { batchSize: Math.min(batch, 50), language: state.language });
    setState({ lastSendReport: report });
    return report;
  } finally {
    setState({ sending: false });
    clearTimeout(retryTimer);
    const due = await nextDue(db);
    if (due !== null) retryTimer = setTimeout(() => void sendNow(), Math.max(1_000, due - Date.now()));
  }
}

/** Ask the browser to wake the service worker when a connection returns (Background Sync). */
export async function requestBackgroundSync(): Promise<void> {
  try {
    const registration = await navigator.serviceWorker?.ready;
    await (registration as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } })?.sync?.register("jawla-outbox");
  } catch {
    // Not supported (Firefox, Safari): the online event and the timer do the job.
  }
}

/** Pull rounds, config and inbox; errors are kept for the screen, never thrown. */
export async function syncAll(): Promise<void> {
  if (!authStore.load() || state.syncing) return;
  setState({ syncing: true, syncError: null });
  try {
    await syncConfig(db, api).catch(() => undefined);
    await syncRounds(db, api);
    await syncInbox(db, api).catch(() => undefined);
  } catch (error) {
    if (!(error instanceof ApiError && error.network)) setState({ syncError: error instanceof Error ? error.message : String(error) });
  } finally {
    setState({ syncing: false });
  }
}

export function startTriggers(): void {
  window.addEventListener("online", () => {
    setState({ online: true });
    void sendNow({ force: true }).then(() => syncAll());
  });
  window.addEventListener("offline", () => setState({ online: false }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      void syncInbox(db, api).catch(() => undefined);
      void sendNow();
    }
  });
  window.addEventListener("focus", () => void syncInbox(db, api).catch(() => undefined));
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.type === "jawla-send-outbox") void sendNow({ force: true });
  });
}

export async function signOut(): Promise<void> {
  await disablePush(api);
  await api.signOut();
  await db.wipe();
  setState({ sessionExpired: false, lastSendReport: null });
  location.hash = "#/";
  changed();
}

export function showToast(text: string) {
  setState({ toast: text });
  setTimeout(() => {
    if (state.toast === text) setState({ toast: null });
  }, 4000);
}

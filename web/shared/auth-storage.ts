// Where a web client keeps its tokens: localStorage under one key per app, so the field app and
// the console (same origin) never share or wipe each other's sign-in.
export interface StoredAuth {
  access: string;
  refresh: string;
  user: { id: number; username: string; role: string | null; municipality_ids: number[] };
}

export interface AuthStore {
  load(): StoredAuth | null;
  save(auth: StoredAuth): void;
  clear(): void;
}

export function localAuthStore(app: string, storage: Storage = globalThis.localStorage): AuthStore {
  const key = `jawla.${app}.auth`;
  return {
    load() {
      const raw = storage.getItem(key);
      if (!raw) return null;
      try {
        return JSON.parse(raw) as StoredAuth;
      } catch {
        return null;
      }
    },
    save(auth) {
      storage.setItem(key, JSON.stringify(auth));
    },
    clear() {
      storage.removeItem(key);
    },
  };
}

export function memoryAuthStore(initial: StoredAuth | null = null): AuthStore {
  let value = initial;
  return {
    load: () => value,
    save: (auth) => {
      value = auth;
    },
    clear: () => {
      value = null;
    },
  };
}

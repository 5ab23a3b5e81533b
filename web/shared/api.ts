// The one client of Jawla's public API (/api/v1/) for every web app: bearer tokens, a refresh on
// 401 (storing the rotated refresh token when the server returns one), errors as ApiError with the
// server's message in the language asked for (Accept-Language).
import type { AuthStore, StoredAuth } from "./auth-storage";

export const API_BASE = "/api/v1/";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: unknown[] | null = null,
  ) {
    super(message);
  }
  /** True when the request never reached the server (offline, DNS, reset). */
  get network(): boolean {
    return this.status === 0;
  }
}

export class SignedOutError extends ApiError {
  constructor(message = "signed out") {
    super(401, "signed_out", message);
  }
}

export interface ApiOptions {
  store: AuthStore;
  language: () => string;
  fetch?: typeof fetch;
  base?: string;
  /** Called when the refresh token is refused: the app must ask for a new sign-in. */
  onSignedOut?: () => void;
}

export class Api {
  private refreshing: Promise<string> | null = null;
  private readonly fetchImpl: typeof fetch;
  private readonly base: string;

  constructor(private readonly options: ApiOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.base = options.base ?? API_BASE;
  }

  get auth(): StoredAuth | null {
    return this.options.store.load();
  }

  async signIn(username: string, password: string): Promise<StoredAuth> {
    const answer = await this.request("auth/token", { method: "POST", json: { username, password }, anonymous: true });
    const auth = answer as StoredAuth;
    this.options.store.save({ access: auth.access, refresh: auth.refresh, user: auth.user });
    return auth;
  }

  /** Tells the server to end the session (best effort), then forgets the tokens. */
  async signOut(): Promise<void> {
    const auth = this.auth;
    if (auth) {
      try {
        await this.request("auth/logout", { method: "POST", json: { refresh: auth.refresh }, anonymous: true });
      } catch {
        // Offline or an older server without auth/logout: the tokens are dropped all the same.
      }
    }
    this.options.store.clear();
  }

  get<T>(path: string, query?: Record<string, string | number | undefined | null>): Promise<T> {
    return this.request(withQuery(path, query), { method: "GET" }) as Promise<T>;
  }

  post<T>(path: string, json: unknown): Promise<T> {
    return this.request(path, { method: "POST", json }) as Promise<T>;
  }

  patch<T>(path: string, json: unknown): Promise<T> {
    return this.request(path, { method: "PATCH", json }) as Promise<T>;
  }

  /** Any method, for what the helpers above do not cover (e.g. DELETE). */
  send<T = unknown>(method: string, path: string, json?: unknown): Promise<T> {
    return this.request(path, { method, json }) as Promise<T>;
  }

  upload<T>(path: string, form: FormData): Promise<T> {
    return this.request(path, { method: "POST", form }) as Promise<T>;
  }

  private async request(
    path: string,
    request: { method: string; json?: unknown; form?: FormData; anonymous?: boolean },
    retried = false,
  ): Promise<unknown> {
    const headers: Record<string, string> = { Accept: "application/json", "Accept-Language": this.options.language() };
    const auth = this.auth;
    if (!request.anonymous) {
      if (!auth) throw new SignedOutError();
      headers.Authorization = `Bearer ${auth.access}`;
    }
    let body: BodyInit | undefined;
    if (request.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(request.json);
    } else if (request.form) {
      body = request.form;
    }
    let response: Response;
    try {
      response = await this.fetchImpl(this.base + path, { method: request.method, headers, body });
    } catch (error) {
      throw new ApiError(0, "network", String((error as Error)?.message ?? error));
    }
    if (response.status === 401 && !request.anonymous && !retried) {
      await this.refresh(auth!.access);
      return this.request(path, request, true);
    }
    const text = await response.text();
    let parsed: any = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!response.ok) {
      throw new ApiError(
        response.status,
        parsed?.code ?? `http_${response.status}`,
        parsed?.detail ?? response.statusText ?? `HTTP ${response.status}`,
        parsed?.errors ?? null,
      );
    }
    return parsed;
  }

  /** One refresh at a time; parallel 401s wait for it. `staleAccess` avoids refreshing twice. */
  private refresh(staleAccess: string): Promise<string> {
    const current = this.auth;
    if (current && current.access !== staleAccess) return Promise.resolve(current.access);
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const auth = this.auth;
    if (!auth) throw new SignedOutError();
    let answer: { access: string; refresh?: string };
    try {
      answer = (await this.request("auth/refresh", { method: "POST", json: { refresh: auth.refresh }, anonymous: true })) as {
        access: string;
        refresh?: string;
      };
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.options.onSignedOut?.();
        throw new SignedOutError(error.message);
      }
      throw error;
    }
    // Refresh-token rotation: a server that rotates returns the next refresh token; the old one is
    // spent (reusing it signs the user out everywhere), so it is replaced at once.
    this.options.store.save({ ...auth, access: answer.access, refresh: answer.refresh ?? auth.refresh });
    return answer.access;
  }
}

export function withQuery(path: string, query?: Record<string, string | number | undefined | null>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

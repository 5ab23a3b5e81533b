import { describe, expect, it } from "vitest";
import { Api, ApiError, SignedOutError } from "./api";
import { memoryAuthStore } from "./auth-storage";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const user = { id: 1, username: "i", role: "inspector", municipality_ids: [1] };

describe("token refresh", () => {
  it("stores the rotated refresh token the server returns, and refreshes once for parallel 401s", async () => {
    const store = memoryAuthStore({ access: "old-access", refresh: "refresh-1", user });
    const refreshes: string[] = [];
    const api = new Api({
      store,
      language: () => "en",
      fetch: async (url, init) => {
        const path = String(url);
        const headers = init?.headers as Record<string, string>;
        if (path.endsWith("auth/refresh")) {
          refreshes.push(JSON.parse(String(init?.body)).refresh);
          return json(200, { access: "new-access", refresh: "refresh-2" });
        }
        return headers.Authorization === "Bearer new-access" ? json(200, { ok: path }) : json(401, { detail: "expired", code: "token_expired" });
      },
    });
    const [a, b] = await Promise.all([api.get("me"), api.get("me/rounds")]);
    expect(a).toEqual({ ok: "/api/v1/me" });
    expect(b).toEqual({ ok: "/api/v1/me/rounds" });
    expect(refreshes).toEqual(["refresh-1"]);
    expect(store.load()).toMatchObject({ access: "new-access", refresh: "refresh-2" });
  });

  it("keeps the refresh token when the server does not rotate it", async () => {
    const store = memoryAuthStore({ access: "a", refresh: "keep", user });
    let first = true;
    const api = new Api({
      store,
      language: () => "ar",
      fetch: async (url) => {
        if (String(url).endsWith("auth/refresh")) return json(200, { access: "b" });
        if (first) {
          first = false;
          return json(401, { detail: "expired", code: "token_expired" });
        }
        return json(200, {});
      },
    });
    await api.get("me");
    expect(store.load()).toMatchObject({ access: "b", refresh: "keep" });
  });

  it("signs out when the refresh token is refused (e.g. reused after rotation)", async () => {
    const store = memoryAuthStore({ access: "a", refresh: "spent", user });
    let signedOut = false;
    const api = new Api({
      store,
      language: () => "ar",
      onSignedOut: () => (signedOut = true),
      fetch: async () => json(401, { detail: "رمز التحديث مستخدم", code: "token_reused" }),
    });
    await expect(api.get("me")).rejects.toBeInstanceOf(SignedOutError);
    expect(signedOut).toBe(true);
  });

  it("reports a network failure as status 0 and a server error with its message and language", async () => {
    const store = memoryAuthStore({ access: "a", refresh: "r", user });
    let language = "";
    const offline = new Api({ store, language: () => "ar", fetch: async () => { throw new TypeError("Failed to fetch"); } });
    await expect(offline.get("me")).rejects.toMatchObject({ status: 0, network: true });
    const api = new Api({
      store,
      language: () => "en",
      fetch: async (_url, init) => {
        language = (init?.headers as Record<string, string>)["Accept-Language"];
        return json(422, { detail: "Bad input", code: "invalid", errors: [{ loc: ["x"] }] });
      },
    });
    const error = (await api.post("visits/sync", {}).catch((caught) => caught)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([422, "invalid", "Bad input"]);
    expect(language).toBe("en");
  });
});

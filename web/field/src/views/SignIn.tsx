import { useState } from "preact/hooks";
import { ApiError } from "@shared/api";
import { api, db, sendNow, setLanguage, setState, state, syncAll, t, useAppState } from "../app";

export function SignIn() {
  const app = useAppState();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const previous = await db.getValue<number>("user_id");
      const auth = await api.signIn(username.trim(), password);
      if (previous !== undefined && previous !== auth.user.id) {
        // Another inspector on this phone: the previous one's rounds are not theirs. (Unsent visits
        // were shown at sign-out; a session that expired keeps them for its own user only.)
        await db.rounds.clear();
        await db.setValue("rounds_cursor", undefined);
      }
      await db.setValue("user_id", auth.user.id);
      setState({ sessionExpired: false });
      location.hash = "#/rounds";
      await sendNow({ force: true });
      await syncAll();
    } catch (caught) {
      setError(caught instanceof ApiError && caught.network ? t("sign_in_offline") : caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="content signin">
      <div class="signin-head">
        <img src="/field/icon.svg" width="72" height="72" alt="" />
        <h1>{t("app_name")}</h1>
        <button class="lang" type="button" onClick={() => setLanguage(state.language === "ar" ? "en" : "ar")} data-testid="language">
          {t("language_switch")}
        </button>
      </div>
      {app.sessionExpired && <p class="banner">{t("signed_out_expired")}</p>}
      <form onSubmit={submit} class="card">
        <label>
          {t("username")}
          <input name="username" autocomplete="username" autocapitalize="none" required value={username} onInput={(event) => setUsername(event.currentTarget.value)} />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(event) => setPassword(event.currentTarget.value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {t("sign_in")}
        </button>
      </form>
    </main>
  );
}

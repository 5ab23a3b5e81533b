// The supervisor's console at /console/: sign in, pick a municipality, and the screens (today's
// board, planning on a map, the week plan, reviews, public reports, overdue findings, checklists).
// Arabic first.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { applyLanguage, storeLanguage, type Language } from "@shared/i18n";
import { localized } from "@shared/i18n";
import { api, Ctx, errorText, getLanguage, setLanguageValue, translate } from "./context";
import "./console.css";
import { Board } from "./views/Board";
import { Checklists } from "./views/Checklists";
import { Overdue } from "./views/Overdue";
import { PlanMap } from "./views/PlanMap";
import { Reviews } from "./views/Reviews";
import { Triage } from "./views/Triage";
import { WeekPlan } from "./views/WeekPlan";

type Tab = "board" | "planMap" | "week" | "reviews" | "triage" | "overdue" | "checklists";
const TABS: Tab[] = ["board", "planMap", "week", "reviews", "triage", "overdue", "checklists"];

interface Me {
  id: number;
  username: string;
  full_name: string;
  role: string | null;
  municipality_ids: number[];
}
interface Municipality {
  id: number;
  name_ar: string;
  name_en: string;
  kind: string;
}

function SignIn({ onDone }: { onDone: () => void }) {
  const [error, setError] = useState("");
  const t = translate;
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    try {
      await api.signIn(String(form.get("username")), String(form.get("password")));
      onDone();
    } catch (failure) {
      setError(errorText(failure));
    }
  }
  return (
    <form class="sign-in card" onSubmit={submit}>
      <h1>{t("title")}</h1>
      <label>
        {t("username")} <input name="username" autocomplete="username" required />
      </label>
      <label>
        {t("password")} <input name="password" type="password" autocomplete="current-password" required />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit">{t("signIn")}</button>
    </form>
  );
}

function initialTab(): Tab {
  const hash = location.hash.replace("#", "") as Tab;
  return TABS.includes(hash) ? hash : "board";
}

function App() {
  const [language, setLanguage] = useState<Language>(getLanguage());
  const [me, setMe] = useState<Me | null>(null);
  const [signedIn, setSignedIn] = useState(Boolean(api.auth));
  const [municipalities, setMunicipalities] = useState<Municipality[]>([]);
  const [municipalityId, setMunicipalityId] = useState<number | null>(null);
  const [tab, setTab] = useState<Tab>(initialTab());
  const [error, setError] = useState("");
  const t = translate;

  useEffect(() => applyLanguage(language), [language]);
  useEffect(() => {
    // On a phone the tabs scroll sideways: keep the open one in view.
    document.querySelector("nav.tabs a.active")?.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, [tab, language, me]);
  useEffect(() => {
    const onHash = () => setTab(initialTab());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    if (!signedIn) return;
    Promise.all([api.get<Me>("me"), api.get<{ items: Municipality[] }>("municipalities", { mine: "true", limit: 200 })])
      .then(([who, places]) => {
        setMe(who);
        const baladiyas = places.items.filter((place) => place.kind === "baladiya");
        setMunicipalities(baladiyas);
        setMunicipalityId((current) => current ?? baladiyas[0]?.id ?? null);
      })
      .catch((failure) => {
        if ((failure as { status?: number }).status === 401) setSignedIn(false);
        setError(errorText(failure));
      });
  }, [signedIn]);

  function switchLanguage() {
    const next: Language = language === "ar" ? "en" : "ar";
    setLanguageValue(next);
    storeLanguage("console", next);
    setLanguage(next);
  }

  if (!signedIn) {
    return (
      <div class="shell">
        <header class="top">
          <strong>جولة · Jawla</strong>
          <button class="link" onClick={switchLanguage}>{t("language")}</button>
        </header>
        <SignIn onDone={() => setSignedIn(true)} />
      </div>
    );
  }
  const context = {
    t,
    language,
    municipalityId,
    isAdmin: me?.role === "admin",
    role: me?.role ?? null,
  };
  return (
    <Ctx.Provider value={context}>
      <div class="shell">
        <header class="top">
          <strong>جولة · {t("title")}</strong>
          <nav class="tabs" aria-label={t("title")}>
            {TABS.map((name) => (
              <a key={name} href={`#${name}`} class={tab === name ? "active" : ""} aria-current={tab === name ? "page" : undefined}>
                {t(name)}
              </a>
            ))}
          </nav>
          <label class="municipality">
            <span class="label-text">{t("municipality")}</span>
            <select
              value={municipalityId ?? ""}
              onChange={(event) => setMunicipalityId(Number((event.target as HTMLSelectElement).value))}
            >
              {municipalities.map((place) => (
                <option key={place.id} value={place.id}>
                  {localized(place, "name", language)}
                </option>
              ))}
            </select>
          </label>
          <span class="who">{me?.full_name || me?.username}</span>
          <button class="link" onClick={switchLanguage}>{t("language")}</button>
          <button
            class="link"
            onClick={async () => {
              await api.signOut();
              setSignedIn(false);
            }}
          >
            {t("signOut")}
          </button>
        </header>
        {error && <p class="error" role="alert">{error}</p>}
        <main key={`${tab}-${municipalityId}`}>
          {municipalityId === null && tab !== "checklists" ? null : (
            <>
              {tab === "board" && <Board />}
              {tab === "planMap" && <PlanMap />}
              {tab === "week" && <WeekPlan />}
              {tab === "reviews" && <Reviews />}
              {tab === "triage" && <Triage />}
              {tab === "overdue" && <Overdue />}
              {tab === "checklists" && <Checklists />}
            </>
          )}
        </main>
      </div>
    </Ctx.Provider>
  );
}

render(<App />, document.getElementById("app")!);

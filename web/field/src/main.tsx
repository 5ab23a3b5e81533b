import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { applyLanguage } from "@shared/i18n";
import { authStore, db, sendNow, setLanguage, setState, startTriggers, state, syncAll, t, useAppState, useLive } from "./app";
import { pendingCount } from "./lib/outbox";
import { AcknowledgementView } from "./views/Acknowledgement";
import { AdHocView } from "./views/AdHoc";
import { InboxView } from "./views/Inbox";
import { OutboxView } from "./views/Outbox";
import { RoundsView } from "./views/Rounds";
import { ScanView } from "./views/Scan";
import { ShopView } from "./views/Shop";
import { SignIn } from "./views/SignIn";
import { SignOutView } from "./views/SignOut";
import { Icon } from "./views/icons";
import { VisitView } from "./views/Visit";
import "./styles.css";

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/rounds");
  useEffect(() => {
    const listener = () => setHash(location.hash || "#/rounds");
    window.addEventListener("hashchange", listener);
    return () => window.removeEventListener("hashchange", listener);
  }, []);
  return hash;
}

const MapView = lazyView(() => import("./views/Map").then((module) => module.MapView));

function lazyView(load: () => Promise<() => preact.JSX.Element>) {
  let loaded: (() => preact.JSX.Element) | null = null;
  return function Lazy() {
    const [, setReady] = useState(false);
    useEffect(() => {
      if (!loaded) void load().then((view) => ((loaded = view), setReady(true)));
    }, []);
    return loaded ? loaded() : <p class="muted">…</p>;
  };
}

function Header() {
  const app = useAppState();
  const counts = useLive(() => pendingCount(db), [], { visits: 0, photos: 0, rejected: 0, acks: 0 });
  const waiting = (counts?.visits ?? 0) + (counts?.photos ?? 0) + (counts?.rejected ?? 0) + (counts?.acks ?? 0);
  return (
    <header class="bar">
      <h1 class="title">{t("short_name")}</h1>
      <span class={`net ${app.online ? "on" : "off"}`} data-testid="network">
        {app.online ? t("online") : t("offline")}
      </span>
      <a class={`counter ${waiting ? "waiting" : ""}`} href="#/outbox" data-testid="pending-counter" aria-label={waiting ? t("pending_counter", { count: waiting }) : t("pending_none")}>
        {waiting}
      </a>
      <button class="lang" type="button" onClick={() => switchLanguage()} data-testid="language">
        {t("language_switch")}
      </button>
    </header>
  );
}

function switchLanguage() {
  const language = state.language === "ar" ? "en" : "ar";
  setLanguage(language);
}

const TABS = [
  ["#/rounds", "tab_rounds", "rounds"],
  ["#/map", "tab_map", "map"],
  ["#/adhoc", "tab_adhoc", "adhoc"],
  ["#/outbox", "tab_outbox", "outbox"],
  ["#/inbox", "tab_inbox", "inbox"],
] as const;

/** Scanning a shop's QR and its card belong to the "other shop" tab. */
function tabActive(hash: string, href: string): boolean {
  if (href === "#/adhoc" && /^#\/(scan|shops?\/)/.test(hash)) return true;
  return hash.startsWith(href);
}

function Tabs({ hash }: { hash: string }) {
  return (
    <nav class="tabs" aria-label="sections">
      {TABS.map(([href, label, icon]) => (
        <a href={href} class={tabActive(hash, href) ? "active" : ""} aria-current={tabActive(hash, href) ? "page" : undefined}>
          <Icon name={icon} />
          <span>{t(label)}</span>
        </a>
      ))}
    </nav>
  );
}

function Main({ hash }: { hash: string }) {
  const parts = hash.replace(/^#\/?/, "").split("/");
  switch (parts[0]) {
    case "map":
      return <MapView />;
    case "adhoc":
      return <AdHocView />;
    case "outbox":
      return <OutboxView />;
    case "inbox":
      return <InboxView />;
    case "signout":
      return <SignOutView />;
    case "visit":
      return parts[1] === "stop" ? <VisitView key={hash} stopId={Number(parts[2])} /> : <VisitView key={hash} establishmentId={Number(parts[2])} versionId={Number(parts[3])} />;
    case "scan":
      return <ScanView key={hash} />;
    case "shops": // a shop-front link opened in the app: #/shops/<code>
      return <ScanView key={hash} code={decodeURIComponent(parts[1] ?? "")} />;
    case "shop":
      return <ShopView key={hash} establishmentId={Number(parts[1])} />;
    case "ack":
      return <AcknowledgementView key={hash} visitClientId={parts[1]} />;
    case "fix":
      return <VisitView key={hash} fixClientId={parts[1]} />;
    default:
      return <RoundsView />;
  }
}

function App() {
  const app = useAppState();
  const hash = useHash();
  const signedIn = authStore.load() !== null;
  return (
    <div class="shell">
      {!window.isSecureContext && (
        <p class="banner danger" role="alert" data-testid="insecure">
          {t("insecure")}
        </p>
      )}
      {!signedIn || app.sessionExpired ? (
        <SignIn />
      ) : (
        <>
          <Header />
          <main class="content" id="main">
            <Main hash={hash} />
          </main>
          <Tabs hash={hash} />
        </>
      )}
      {app.toast && (
        <p class="toast" role="status">
          {app.toast}
        </p>
      )}
    </div>
  );
}

applyLanguage(state.language);
document.title = t("app_name");
render(<App />, document.getElementById("app")!);
startTriggers();

if (window.isSecureContext && "serviceWorker" in navigator) {
  void navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" });
}
if (authStore.load()) {
  // On open: send what waits, then pull the day's changes.
  void sendNow({ force: true }).then(() => syncAll());
}
setState({ online: navigator.onLine });

import { todayInRiyadh } from "@shared/dates";
import { db, syncAll, t, useAppState, useLive } from "../app";
import { navigationUrl } from "../lib/geo";
import type { Round, Stop } from "../lib/types";
import { clock, Day, name, stopStatusLabel } from "./common";

/** Stops with a visit on this phone: "saved" while it waits to be sent, "visited" once sent. */
function useSavedStops(): Map<number, "saved" | "visited"> {
  const saved = useLive(async () => (await db.outbox.toArray()).map((visit) => [visit.stop_id, visit.status] as const), [], []);
  return new Map((saved ?? []).filter(([id]) => typeof id === "number").map(([id, status]) => [id as number, status === "sent" ? "visited" : "saved"]));
}

export function RoundsView() {
  const app = useAppState();
  const rounds = useLive(() => db.rounds.orderBy("date").toArray(), [], undefined);
  const syncedAt = useLive(() => db.getValue<number>("rounds_synced_at"), []);
  const saved = useSavedStops();
  const today = todayInRiyadh();
  const todays = (rounds ?? []).filter((round) => round.date === today);
  const others = (rounds ?? []).filter((round) => round.date !== today && round.date > today);

  return (
    <section aria-labelledby="rounds-title">
      <div class="section-head">
        <h2 id="rounds-title">
          {t("today_rounds")} <Day value={today} />
        </h2>
        <button type="button" class="secondary" onClick={() => void syncAll()} disabled={app.syncing} data-testid="refresh">
          {t("refresh")}
        </button>
      </div>
      <p class="muted" data-testid="last-sync">
        {syncedAt ? t("last_sync", { time: clock(syncedAt) }) : t("never_synced")}
      </p>
      {app.syncError && <p class="error">{t("sync_failed", { message: app.syncError })}</p>}
      {rounds !== undefined && todays.length === 0 && <p class="card muted">{t("no_rounds")}</p>}
      {todays.map((round) => (
        <RoundCard key={round.id} round={round} saved={saved} />
      ))}
      {others.length > 0 && (
        <details class="others">
          <summary>{t("other_rounds")}</summary>
          {others.map((round) => (
            <RoundCard key={round.id} round={round} saved={saved} />
          ))}
        </details>
      )}
    </section>
  );
}

function RoundCard({ round, saved }: { round: Round; saved: Map<number, "saved" | "visited"> }) {
  const stops = [...round.stops].sort((a, b) => a.position - b.position);
  const cancelled = round.status === "cancelled";
  const next = cancelled ? undefined : stops.find((stop) => stop.status === "pending" && !saved.has(stop.id));
  const active = stops.filter((stop) => stop.status !== "cancelled");
  const visited = active.filter((stop) => stop.status === "visited" || saved.has(stop.id)).length;
  return (
    <article class={`card round ${cancelled ? "cancelled" : ""}`} data-testid={`round-${round.id}`}>
      <header class="round-head">
        <h3>{t("round_title", { id: round.id })}</h3>
        <Day value={round.date} />
        <span class="progress">{t("stops_progress", { visited, total: active.length })}</span>
      </header>
      {cancelled && <p class="banner danger">{t("round_cancelled")}</p>}
      <ol class="stops">
        {stops.map((stop) => (
          <StopRow key={stop.id} stop={stop} round={round} isNext={stop === next} local={saved.get(stop.id)} />
        ))}
      </ol>
    </article>
  );
}

function StopRow({ stop, round, isNext, local }: { stop: Stop; round: Round; isNext: boolean; local?: "saved" | "visited" }) {
  const cancelled = stop.status === "cancelled" || round.status === "cancelled";
  const saved = local !== undefined;
  const status = cancelled ? "cancelled" : stop.status === "visited" ? "visited" : (local ?? stop.status);
  const shop = stop.establishment;
  return (
    <li class={`stop ${cancelled ? "cancelled" : ""} ${isNext ? "next" : ""}`} data-testid={`stop-${stop.id}`} data-status={status}>
      <span class="position" aria-hidden="true">
        {stop.position}
      </span>
      <div class="stop-body">
        {isNext && <span class="chip next-chip">{t("next_stop")}</span>}
        <strong class="shop-name">{name(shop)}</strong>
        <span class="muted">{[shop.licence_no, shop.address].filter(Boolean).join(" · ")}</span>
        <span class={`chip status-${status}`}>
          {stopStatusLabel(status)}
          {stop.is_follow_up ? ` · ${t("follow_up")}` : ""}
        </span>
        {!cancelled && (
          <div class="row">
            {!saved && stop.status === "pending" && (
              <a class="button primary" href={`#/visit/stop/${stop.id}`}>
                {t("start_visit")}
              </a>
            )}
            <a class="button secondary" href={navigationUrl(shop.lat, shop.lon)} target="_blank" rel="noopener">
              {t("navigate")}
            </a>
          </div>
        )}
      </div>
    </li>
  );
}

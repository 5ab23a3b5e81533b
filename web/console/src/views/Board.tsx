// Today's board: each inspector's progress and last fix on a map, and what needs the supervisor now.
// Refreshes by itself (every 30 s, or ?refresh=N seconds).
import { useEffect, useRef, useState } from "preact/hooks";
import { time } from "@shared/dates";
import { api, errorText, useConsole } from "../context";
import { createMap, fit, L } from "../map";

interface Inspector {
  id: number;
  username: string;
  name: string;
  workload: { today_stops: number; today_visited: number; today_pending: number; today_missed: number; week_stops: number };
  last_seen: { at: string; lat: number | null; lon: number | null; establishment_name: string } | null;
}
export interface Flagged {
  id: number;
  establishment_name: string;
  inspector_name: string;
  finished_at: string;
  outcome: string;
  geo_distance_m: number | null;
  duration_minutes: number;
  flags: string[];
  review_status: string | null;
  lat: number | null;
  lon: number | null;
}
interface BoardData {
  date: string;
  generated_at: string;
  inspectors: Inspector[];
  critical_findings: { id: number; establishment_name: string; item_code: string; opened_at: string }[];
  flagged_visits: Flagged[];
  flagged_count: number;
}
interface Consistency {
  inspector_id: number;
  name: string;
  visits: number;
  observed: number;
  expected: number;
  ratio: number | null;
  low: number | null;
  high: number | null;
  signal: "higher" | "lower" | "as_expected";
}

const REFRESH_SECONDS = Number(new URLSearchParams(location.search).get("refresh")) || 30;

export function Board() {
  const { t, language, municipalityId } = useConsole();
  const [board, setBoard] = useState<BoardData | null>(null);
  const [consistency, setConsistency] = useState<Consistency[]>([]);
  const [error, setError] = useState("");
  const mapElement = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);

  async function load() {
    try {
      setBoard(await api.get<BoardData>("board", { municipality: municipalityId }));
      setError("");
    } catch (failure) {
      setError(errorText(failure));
    }
  }
  useEffect(() => {
    void load();
    api.get<Consistency[]>("inspectors/consistency", { municipality: municipalityId }).then(setConsistency, () => undefined);
    const timer = setInterval(load, REFRESH_SECONDS * 1000);
    return () => clearInterval(timer);
  }, [municipalityId]);
  useEffect(() => {
    if (!mapElement.current || map.current) return;
    map.current = createMap(mapElement.current, municipalityId);
    layer.current = L.layerGroup().addTo(map.current);
  }, [mapElement.current]);
  useEffect(() => {
    if (!board || !layer.current || !map.current) return;
    layer.current.clearLayers();
    const points: [number, number][] = [];
    for (const person of board.inspectors) {
      const seen = person.last_seen;
      if (!seen || seen.lat == null || seen.lon == null) continue;
      points.push([seen.lat, seen.lon]);
      L.circleMarker([seen.lat, seen.lon], { radius: 9, color: "#0b5d3b", fillColor: "#1a9850", fillOpacity: 0.85 })
        .bindTooltip(`${person.name} · ${time(seen.at, language)}`, { permanent: true, direction: "top" })
        .addTo(layer.current);
    }
    for (const visit of board.flagged_visits) {
      if (visit.lat == null || visit.lon == null) continue;
      L.circleMarker([visit.lat, visit.lon], { radius: 6, color: "#b30000", fillColor: "#fc8d59", fillOpacity: 0.9 })
        .bindTooltip(visit.establishment_name)
        .addTo(layer.current);
    }
    fit(map.current, points);
  }, [board]);

  return (
    <section class="board">
      <div class="toolbar">
        <h2>{t("board")}</h2>
        <button onClick={load}>{t("refresh")}</button>
        {board && <span class="muted" data-testid="updated">{t("updatedAt", { time: time(board.generated_at, language) })}</span>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="columns">
        <div class="card">
          <table class="table" data-testid="inspectors">
            <thead>
              <tr>
                <th>{t("inspector")}</th>
                <th>{t("progress")}</th>
                <th>{t("lastSeen")}</th>
                <th>{t("weekLoad")}</th>
              </tr>
            </thead>
            <tbody>
              {board?.inspectors.map((person) => {
                const load = person.workload;
                const share = load.today_stops ? (100 * (load.today_visited + load.today_missed)) / load.today_stops : 0;
                return (
                  <tr key={person.id} data-inspector={person.username}>
                    <td>{person.name}</td>
                    <td>
                      <div class="bar" aria-hidden="true">
                        <span style={{ inlineSize: `${share}%` }} />
                      </div>
                      {load.today_visited} {t("visited")} · {load.today_pending} {t("pending")} · {load.today_missed} {t("missed")}
                    </td>
                    <td class="last-seen">
                      {person.last_seen ? `${time(person.last_seen.at, language)} · ${person.last_seen.establishment_name}` : t("never")}
                    </td>
                    <td>{load.week_stops}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <div class="card map" ref={mapElement} data-testid="board-map" />
      </div>
      <div class="columns">
        <div class="card needs-me">
          <h3>{t("needsMe")}</h3>
          <h4>{t("critical")}</h4>
          {board?.critical_findings.length ? (
            <ul>
              {board.critical_findings.map((finding) => (
                <li key={finding.id} class="critical">
                  {finding.establishment_name} · {finding.item_code} · {time(finding.opened_at, language)}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t("nothing")}</p>
          )}
          <h4>
            {t("flagged")} ({board?.flagged_count ?? 0})
          </h4>
          <ul>
            {board?.flagged_visits.slice(0, 10).map((visit) => (
              <li key={visit.id}>
                <a href="#reviews">{visit.establishment_name}</a> · {visit.inspector_name} ·{" "}
                {visit.flags.map((flag) => t(`flag_${flag}` as any)).join("، ")}
              </li>
            ))}
          </ul>
        </div>
        <div class="card">
          <h3>{t("consistency")}</h3>
          <p class="muted">{t("notATarget")}</p>
          <table class="table">
            <thead>
              <tr>
                <th>{t("inspector")}</th>
                <th>{t("observedExpected")}</th>
                <th>95%</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {consistency.map((row) => (
                <tr key={row.inspector_id}>
                  <td>{row.name}</td>
                  <td>
                    {row.observed} / {row.expected.toFixed(1)} {row.ratio != null && `(${row.ratio.toFixed(2)})`}
                  </td>
                  <td>{row.low != null && row.high != null ? `${row.low.toFixed(2)}–${row.high.toFixed(2)}` : "—"}</td>
                  <td class={`signal-${row.signal}`}>{t(`signal_${row.signal}` as any)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}

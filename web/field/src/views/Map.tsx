// Today's stops, the route between them and the municipality's boundary on a Leaflet map. Tiles
// come from the deployment's MAP_TILE_URL (GET config); without one, or offline, the vectors still
// draw on a plain background. Loaded on demand, so Leaflet is not in the first download.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef } from "preact/hooks";
import { todayInRiyadh } from "@shared/dates";
import { api, config, db, t, useLive } from "../app";
import type { ClientConfig, Round } from "../lib/types";
import { name } from "./common";

async function boundary(municipalityId: number): Promise<GeoJSON.GeoJsonObject | null> {
  const key = `boundary_${municipalityId}`;
  const cached = await db.getValue<GeoJSON.GeoJsonObject>(key);
  if (cached) return cached;
  try {
    const feature = await api.get<GeoJSON.Feature>(`municipalities/${municipalityId}`);
    await db.setValue(key, feature);
    return feature;
  } catch {
    return null;
  }
}

export function MapView() {
  const element = useRef<HTMLDivElement>(null);
  const rounds = useLive(() => db.rounds.where("date").equals(todayInRiyadh()).toArray(), [], undefined);
  const settings = useLive(() => config(), [], undefined);

  useEffect(() => {
    if (!element.current || rounds === undefined) return;
    const map = L.map(element.current, { zoomControl: true, attributionControl: true });
    let alive = true;
    draw(map, rounds, settings ?? null, () => alive);
    return () => {
      alive = false; // a boundary still loading must not draw on the removed map
      map.remove();
    };
  }, [rounds, settings]);

  return (
    <section class="map-view" aria-label={t("tab_map")}>
      {!settings?.map_tile_url && <p class="muted small">{t("map_no_tiles")}</p>}
      <div ref={element} class="map" data-testid="map" />
    </section>
  );
}

function draw(map: L.Map, rounds: Round[], settings: ClientConfig | null, alive: () => boolean) {
  if (settings?.map_tile_url) {
    L.tileLayer(settings.map_tile_url, { attribution: settings.map_tile_attribution, maxZoom: 19 }).addTo(map);
  }
  const bounds = L.latLngBounds([]);
  for (const round of rounds) {
    const stops = [...round.stops].sort((a, b) => a.position - b.position);
    const active = stops.filter((stop) => stop.status !== "cancelled" && round.status !== "cancelled");
    const path = active.map((stop) => L.latLng(stop.establishment.lat, stop.establishment.lon));
    if (path.length > 1) L.polyline(path, { color: "#0b5d3b", weight: 4, opacity: 0.8 }).addTo(map);
    for (const stop of stops) {
      const cancelled = stop.status === "cancelled" || round.status === "cancelled";
      const point = L.latLng(stop.establishment.lat, stop.establishment.lon);
      bounds.extend(point);
      L.marker(point, {
        icon: L.divIcon({ className: `stop-pin ${cancelled ? "cancelled" : stop.status}`, html: `<span>${stop.position}</span>`, iconSize: [34, 34] }),
        title: name(stop.establishment),
        keyboard: true,
      })
        .bindPopup(`<strong>${escape(name(stop.establishment))}</strong><br><a href="#/visit/stop/${stop.id}">${escape(t("start_visit"))}</a>`)
        .addTo(map);
    }
    void boundary(round.municipality_id).then((feature) => {
      if (feature && alive()) L.geoJSON(feature, { style: { color: "#b45309", weight: 2, fill: false, dashArray: "6 4" }, interactive: false }).addTo(map);
    });
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
  else map.setView([26.4207, 50.0888], 11); // Dammam
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

// Leaflet for the console: a map drawn on a plain background unless the deployment configures a
// tile server (GET config), with the municipality's boundary for orientation.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { api } from "./context";

let tileUrl: Promise<{ url: string; attribution: string }> | null = null;

function tiles() {
  tileUrl ??= fetch("/api/v1/config")
    .then((response) => response.json())
    .then((config) => ({ url: config.map_tile_url ?? "", attribution: config.map_tile_attribution ?? "" }))
    .catch(() => ({ url: "", attribution: "" }));
  return tileUrl;
}

export function createMap(element: HTMLElement, municipalityId: number | null): L.Map {
  const map = L.map(element, { zoomControl: true, attributionControl: true }).setView([26.42, 50.09], 11);
  void tiles().then(({ url, attribution }) => {
    if (url) L.tileLayer(url, { attribution, maxZoom: 19 }).addTo(map);
  });
  if (municipalityId) {
    api
      .get<{ geometry: unknown }>(`municipalities/${municipalityId}`)
      .then((feature) => {
        if (feature.geometry) {
          const layer = L.geoJSON(feature.geometry as any, {
            style: { color: "#0b5d3b", weight: 2, fillOpacity: 0.04 },
            interactive: false,
          }).addTo(map);
          layer.bringToBack();
        }
      })
      .catch(() => undefined);
  }
  return map;
}

export function fit(map: L.Map, points: [number, number][]): void {
  if (points.length === 1) map.setView(points[0], 14);
  else if (points.length > 1) map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 15 });
}

export { L };

// The device's GPS fix (Geolocation API) and the distance rule the server will apply.
import type { Fix } from "./types";

export function currentFix(timeoutMs = 15_000): Promise<Fix | null> {
  if (!("geolocation" in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (position) =>
        resolve({
          lat: position.coords.latitude,
          lon: position.coords.longitude,
          accuracy_m: Math.round(position.coords.accuracy * 10) / 10,
          at: new Date(position.timestamp || Date.now()).toISOString(),
        }),
      () => resolve(null),
      // A fix is evidence of where the visit happened: never a cached one from the previous shop.
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 0 },
    );
  });
}

/** Great-circle distance in metres (the server uses the geodesic; they differ by < 0.5% here). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}

/** The better of two fixes (the smaller accuracy radius): the one sent as the visit's location. */
export function bestFix(start: Fix | null, end: Fix | null): Fix | null {
  if (!start) return end;
  if (!end) return start;
  return end.accuracy_m <= start.accuracy_m ? end : start;
}

/** The link that hands the next stop to the phone's navigation app. */
export function navigationUrl(lat: number, lon: number): string {
  const isApple = /iPhone|iPad|iPod/.test(navigator.userAgent);
  return isApple ? `https://maps.apple.com/?daddr=${lat},${lon}&dirflg=d` : `https://www.google.com/maps/dir/?api=1&destination=${lat},${lon}&travelmode=driving`;
}

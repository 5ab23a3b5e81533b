// FCM web push, only when the deployment configures Firebase (GET config → web_push): the Firebase
// SDK is loaded on demand (not in the first download), subscribes through the app's own service
// worker (sw-sync.js shows the notification) and the token is registered with POST devices.
import type { Api } from "@shared/api";
import type { ClientConfig } from "./types";

export function pushSupported(config: ClientConfig | undefined): boolean {
  return Boolean(config?.web_push) && "Notification" in window && "PushManager" in window && "serviceWorker" in navigator;
}

export async function enablePush(api: Api, config: ClientConfig): Promise<string | null> {
  if (!pushSupported(config) || !config.web_push) return null;
  if ((await Notification.requestPermission()) !== "granted") return null;
  const [{ initializeApp }, { getMessaging, getToken }] = await Promise.all([import("firebase/app"), import("firebase/messaging")]);
  const app = initializeApp(config.web_push.firebase, "jawla-field");
  const token = await getToken(getMessaging(app), {
    vapidKey: config.web_push.vapid_key,
    serviceWorkerRegistration: await navigator.serviceWorker.ready,
  });
  if (!token) return null;
  await api.post("devices", { token, platform: "web" });
  localStorage.setItem("jawla.field.push-token", token);
  return token;
}

/** On sign-out: stop pushes to this phone (best effort; offline it expires on the server's side). */
export async function disablePush(api: Api): Promise<void> {
  const token = localStorage.getItem("jawla.field.push-token");
  if (!token) return;
  localStorage.removeItem("jawla.field.push-token");
  try {
    await api.send("DELETE", `devices/${encodeURIComponent(token)}`);
  } catch {
    // Offline or already gone.
  }
}

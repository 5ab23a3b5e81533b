// Imported by the generated service worker (workbox importScripts). Background sync: when the
// browser regains a connection it fires "sync" with the tag the app registered; the worker asks
// every open window of the app to send its outbox (the outbox lives in IndexedDB and its sending
// code in the app), and keeps the tag pending when no window answers, so the browser retries.
self.addEventListener("sync", (event) => {
  if (event.tag !== "jawla-outbox") return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      if (windows.length === 0) throw new Error("no window open: try again later");
      for (const client of windows) client.postMessage({ type: "jawla-send-outbox" });
    }),
  );
});

// FCM web push (when the deployment configures Firebase): show the notification, open the inbox.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { notification: { title: "Jawla", body: event.data ? event.data.text() : "" } };
  }
  const notification = message.notification || {};
  event.waitUntil(
    self.registration.showNotification(notification.title || "جولة", {
      body: notification.body || "",
      icon: "/field/icon-192.png",
      data: message.data || {},
      lang: "ar",
      dir: "auto",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url.includes("/field/")) {
          client.navigate("/field/#/inbox");
          return client.focus();
        }
      }
      return self.clients.openWindow("/field/#/inbox");
    }),
  );
});

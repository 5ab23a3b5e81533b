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

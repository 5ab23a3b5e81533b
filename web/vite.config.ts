/// <reference types="vitest/config" />
// One Vite project, one entry per web client. Each app lives in web/<app>/ (its index.html is the
// entry) and is built on its own with `vite build --mode <app>` into dist/<app>/, served by Django's
// whitenoise at /<app>/ (WHITENOISE_ROOT = web/dist). `npm run build` builds every app
// (scripts/build.mjs). Shared code (API client, i18n, dates, auth storage) is in web/shared/.
import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig, type PluginOption } from "vite";
import { VitePWA } from "vite-plugin-pwa";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The apps of this project and what each adds to the common config. */
export const APPS: Record<string, { plugins: () => PluginOption[] }> = {
  field: { plugins: fieldPlugins },
  console: { plugins: () => [] }, // the supervisors' console: a plain web app (no service worker)
};

export default defineConfig(({ mode }) => {
  const app = mode in APPS ? mode : "field";
  return {
    root: here(`./${app}`),
    base: `/${app}/`,
    publicDir: here(`./${app}/public`),
    resolve: { alias: { "@shared": here("./shared") } },
    plugins: [preact(), ...APPS[app].plugins()],
    build: {
      outDir: here(`./dist/${app}`),
      emptyOutDir: true,
      target: "es2022",
      assetsInlineLimit: 0,
    },
    server: {
      // `npm run dev`: the Django server (make run) answers the API.
      proxy: { "/api": "http://127.0.0.1:8000" },
    },
    test: {
      root: here("."),
      include: ["**/*.test.ts"],
      exclude: ["node_modules/**", "dist/**"],
      environment: "node",
    },
  };
});

function fieldPlugins(): PluginOption[] {
  return [
    VitePWA({
      strategies: "generateSW",
      registerType: "autoUpdate",
      injectRegister: false, // registered in src/main.tsx, where an insecure context is reported
      filename: "sw.js", // served at /field/sw.js, so its scope is /field/
      scope: "/field/",
      base: "/field/",
      manifestFilename: "manifest.webmanifest",
      includeAssets: ["icon.svg"],
      manifest: {
        id: "/field/",
        name: "جولة · المراقب الميداني",
        short_name: "جولة",
        description: "Jawla field app: today's rounds, visits, photos and GPS, offline first.",
        lang: "ar",
        dir: "rtl",
        start_url: "/field/",
        scope: "/field/",
        display: "standalone",
        orientation: "portrait",
        background_color: "#ffffff",
        theme_color: "#0b5d3b",
        icons: [
          { src: "icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        navigateFallback: "/field/index.html",
        navigateFallbackAllowlist: [/^\/field\//],
        globPatterns: ["**/*.{js,css,html,svg,png,webmanifest}"],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        // Background sync: the browser wakes the worker, which asks an open window (or, with none,
        // keeps the tag pending) to send the outbox; see public/sw-sync.js.
        importScripts: ["sw-sync.js"],
        runtimeCaching: [
          {
            // Map tiles from whatever tile server the deployment configures (MAP_TILE_URL).
            urlPattern: ({ request, url }) =>
              request.destination === "image" && !url.pathname.startsWith("/api/") && !url.pathname.startsWith("/media/"),
            handler: "CacheFirst",
            options: {
              cacheName: "field-tiles",
              expiration: { maxEntries: 800, maxAgeSeconds: 30 * 24 * 3600 },
              cacheableResponse: { statuses: [0, 200] },
            },
          },
        ],
      },
    }),
  ];
}

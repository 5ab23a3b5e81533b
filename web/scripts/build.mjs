// Builds every app of the project into dist/<app>/: one `vite build --mode <app>` per folder of
// web/ that holds an index.html (field/ now, console/ next). `npm run build -- field` builds one.
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const web = fileURLToPath(new URL("..", import.meta.url));
const wanted = process.argv.slice(2);
const apps = readdirSync(web, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${web}/${entry.name}/index.html`))
  .map((entry) => entry.name)
  .filter((app) => wanted.length === 0 || wanted.includes(app));

for (const app of apps) {
  const started = performance.now();
  await build({ configFile: `${web}/vite.config.ts`, mode: app, logLevel: "warn" });
  console.log(`built ${app} in ${Math.round(performance.now() - started)} ms -> web/dist/${app}/`);
}

// Whitenoise serves a file's .gz / .br sibling to clients that accept it (it does not compress on
// the fly for WHITENOISE_ROOT), so the text files are compressed here once.
import { brotliCompressSync, gzipSync, constants } from "node:zlib";
import { readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

for (const app of apps) {
  for (const path of files(`${web}/dist/${app}`)) {
    if (!/\.(js|css|html|svg|webmanifest|json)$/.test(path) || statSync(path).size < 512) continue;
    const content = readFileSync(path);
    writeFileSync(`${path}.gz`, gzipSync(content, { level: 9 }));
    writeFileSync(`${path}.br`, brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
}

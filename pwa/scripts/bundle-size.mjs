// Prints the gzipped size of the JavaScript and CSS the first screen loads (index.html's
// <script>/<link> tags and their static imports) and of the service worker. Run after
// `npm run build`: `node scripts/bundle-size.mjs`.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url);
const html = readFileSync(new URL("index.html", dist), "utf8");
const seen = new Set();
const queue = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let js = 0;
let css = 0;
while (queue.length) {
  const file = queue.shift();
  if (seen.has(file)) continue;
  seen.add(file);
  const body = readFileSync(new URL(file, dist));
  const gz = gzipSync(body, { level: 9 }).length;
  if (file.endsWith(".js")) {
    js += gz;
    for (const m of body.toString("utf8").matchAll(/from"\.\/([^"]+\.js)"/g)) queue.push(`assets/${m[1]}`);
  } else css += gz;
}
const sw = existsSync(new URL("sw.js", dist)) ? gzipSync(readFileSync(new URL("sw.js", dist)), { level: 9 }).length : 0;
const kb = (n) => (n / 1024).toFixed(1);
console.log(`first-screen JS  ${kb(js)} KiB gzipped (${[...seen].filter((f) => f.endsWith(".js")).length} files)`);
console.log(`first-screen CSS ${kb(css)} KiB gzipped`);
console.log(`service worker   ${kb(sw)} KiB gzipped (not on the first screen's critical path)`);

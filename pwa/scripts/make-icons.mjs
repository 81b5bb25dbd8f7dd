// Writes the app icons (PNG) into public/icons/ with no image library: a teal tile with a
// white "revisit" ring and arrow head. Run with `npm run icons`; the PNGs are committed.
import { deflateSync } from "node:zlib";
import { writeFileSync, mkdirSync } from "node:fs";

const THEME = [15, 118, 110]; // #0f766e
const WHITE = [255, 255, 255];

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x + 0.5, y + 0.5);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b; raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The glyph: a ring open at the top right with an arrow head (a "come back" loop). */
function glyph(u, v) {
  // u, v in [-1, 1] relative to the glyph box
  const r = Math.hypot(u, v);
  const ang = Math.atan2(-v, u); // 0 = right, counter-clockwise
  const ring = r > 0.55 && r < 0.8 && !(ang > 0.15 && ang < 1.2);
  // arrow head at angle 0.15 pointing down (clockwise travel)
  const ax = 0.675 * Math.cos(0.15), ay = -0.675 * Math.sin(0.15);
  const du = u - ax, dv = v - ay;
  const head = dv > -0.05 && dv < 0.35 && Math.abs(du) < 0.3 * (0.35 - dv) / 0.4 + 0.0;
  const dot = Math.hypot(u, v) < 0.2;
  return ring || head || dot;
}

function icon(size, { maskable }) {
  const radius = maskable ? 0 : size * 0.18;
  const glyphScale = maskable ? 0.32 : 0.4; // maskable keeps the glyph inside the 80% safe zone
  return png(size, (x, y) => {
    // rounded tile (transparent corners) unless maskable (full bleed)
    if (!maskable) {
      const cx = Math.min(Math.max(x, radius), size - radius);
      const cy = Math.min(Math.max(y, radius), size - radius);
      if (Math.hypot(x - cx, y - cy) > radius) return [0, 0, 0, 0];
    }
    const u = (x - size / 2) / (size * glyphScale);
    const v = (y - size / 2) / (size * glyphScale);
    return glyph(u, v) ? [...WHITE, 255] : [...THEME, 255];
  });
}

mkdirSync(new URL("../public/icons/", import.meta.url), { recursive: true });
for (const size of [192, 512]) {
  writeFileSync(new URL(`../public/icons/icon-${size}.png`, import.meta.url), icon(size, { maskable: false }));
  writeFileSync(new URL(`../public/icons/maskable-${size}.png`, import.meta.url), icon(size, { maskable: true }));
}
writeFileSync(new URL("../public/icons/apple-touch-icon.png", import.meta.url), icon(180, { maskable: true }));
console.log("icons written");

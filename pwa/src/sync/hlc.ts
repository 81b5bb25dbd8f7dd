/**
 * Hybrid logical clocks (R-HLC-1..5): `PPPPPPPPPPPP-CCCC-NODE`, fixed width, so plain
 * string order is the total order (physical, counter, node). Twin of sync/hlc.py.
 */

export interface Hlc {
  physical: number;
  counter: number;
  node: string;
}

export const MAX_PHYSICAL = 0xffff_ffff_ffff;
export const MAX_COUNTER = 0xffff;
const HLC_RE = /^([0-9a-f]{12})-([0-9a-f]{4})-([A-Za-z0-9_.:-]{1,40})$/;
const NODE_RE = /^[A-Za-z0-9_.:-]{1,40}$/;

export class InvalidClock extends Error {}

function make(physical: number, counter: number, node: string): Hlc {
  if (!(physical >= 0 && physical <= MAX_PHYSICAL)) throw new InvalidClock(`physical out of range: ${physical}`);
  if (!(counter >= 0 && counter <= MAX_COUNTER)) throw new InvalidClock(`counter out of range: ${counter}`);
  if (!NODE_RE.test(node)) throw new InvalidClock(`invalid node id: ${node}`);
  return { physical, counter, node };
}

export function formatHlc(h: Hlc): string {
  return `${h.physical.toString(16).padStart(12, "0")}-${h.counter.toString(16).padStart(4, "0")}-${h.node}`;
}

export function parseHlc(s: string): Hlc {
  const m = HLC_RE.exec(s);
  if (!m) throw new InvalidClock(`not a clock value: ${s}`);
  return make(parseInt(m[1]!, 16), parseInt(m[2]!, 16), m[3]!);
}

export function isClock(s: unknown): s is string {
  return typeof s === "string" && HLC_RE.test(s);
}

export function zero(node: string): Hlc {
  return make(0, 0, node);
}

/** R-HLC-2: plain string order (clocks are ASCII, so UTF-16 order = code-point order). */
export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// R-HLC-5: counter overflow carries into the physical part.
function normalise(physical: number, counter: number, node: string): Hlc {
  if (counter > MAX_COUNTER) {
    physical += 1;
    counter = 0;
  }
  return make(Math.min(physical, MAX_PHYSICAL), counter, node);
}

/** R-HLC-3: a local event or send. */
export function stamp(local: Hlc, nowMs: number): Hlc {
  const now = Math.floor(nowMs);
  const pt = Math.max(local.physical, now);
  return normalise(pt, pt === local.physical ? local.counter + 1 : 0, local.node);
}

/** R-HLC-4: merge a remote clock into the local one (the node stays local). */
export function receive(local: Hlc, remote: Hlc, nowMs: number): Hlc {
  const now = Math.floor(nowMs);
  const pt = Math.max(local.physical, remote.physical, now);
  let counter: number;
  if (pt === local.physical && pt === remote.physical) counter = Math.max(local.counter, remote.counter) + 1;
  else if (pt === local.physical) counter = local.counter + 1;
  else if (pt === remote.physical) counter = remote.counter + 1;
  else counter = 0;
  return normalise(pt, counter, local.node);
}

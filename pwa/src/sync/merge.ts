/**
 * Per-field merge (R-MERGE-2) and conflict detection (R-PUT-3): a table from
 * (table, field) to a named pure resolver. Twin of sync/resolvers.py.
 */

export type Register = [value: unknown, clock: string];
export type Resolver = (a: Register, b: Register) => Register;

/** Code-point order (Python's str order), not UTF-16 code-unit order. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** Sorted keys, no spaces: the tie-break key for equal clocks (R-MERGE-2). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareCodePoints);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

function byClock(a: Register, b: Register): Register {
  if (a[1] !== b[1]) return a[1] > b[1] ? a : b;
  return compareCodePoints(canonicalJson(a[0]), canonicalJson(b[0])) >= 0 ? a : b;
}

export const lww: Resolver = (a, b) => byClock(a, b);

/** Tombstones stay (R-DEL-1): `true` beats anything else whatever the clocks. */
export const stickyTrue: Resolver = (a, b) => {
  if ((a[0] === true) !== (b[0] === true)) return a[0] === true ? a : b;
  return byClock(a, b);
};

export const RESOLVERS_BY_NAME: Record<string, Resolver> = { lww, sticky_true: stickyTrue };

const STICKY_DELETED = [
  "contacts",
  "visits",
  "gifts",
  "notes",
  "planned_revisits",
  "stock_movements",
  "conflicts",
  "regions",
  "gift_items",
  "cadence_rules",
];

/** (table, field) -> resolver name; anything not listed uses lww. */
export const RESOLVERS: Record<string, string> = Object.fromEntries(
  STICKY_DELETED.map((t) => [`${t}.deleted`, "sticky_true"]),
);

export function resolverName(table: string, field: string): string {
  return RESOLVERS[`${table}.${field}`] ?? "lww";
}

export function merge(table: string, field: string, a: Register, b: Register): Register {
  return RESOLVERS_BY_NAME[resolverName(table, field)]!(a, b);
}

export interface FieldWrite {
  value: unknown;
  base: string | null;
  hlc: string;
}

export interface FieldOutcome {
  value: unknown;
  clock: string;
  conflict: { losing_value: unknown; losing_clock: string } | null;
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * R-PUT-3: a write whose base is the field's current clock is sequential; otherwise it
 * is concurrent and, when the values differ, the losing register becomes a conflict.
 */
export function applyFieldWrite(table: string, field: string, current: Register | null, write: FieldWrite): FieldOutcome {
  const incoming: Register = [write.value, write.hlc];
  if (!current) return { value: write.value, clock: write.hlc, conflict: null };
  const winner = merge(table, field, current, incoming);
  const sequential = write.base === current[1];
  const loser = winner === incoming ? current : incoming;
  const conflict =
    !sequential && !sameValue(current[0], write.value) ? { losing_value: loser[0], losing_clock: loser[1] } : null;
  return { value: winner[0], clock: winner[1], conflict };
}

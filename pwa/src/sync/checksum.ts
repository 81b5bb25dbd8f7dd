/**
 * Replica checksums (R-SUM): per bucket, a count and the sum mod 2^64 of FNV-1a 64 hashes
 * of "<table>:<id>:<v>" over the live rows. Additive, so one change costs O(1).
 */

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

/** FNV-1a 64 over the UTF-8 bytes of `s`, as an unsigned BigInt. */
export function fnv1a64(s: string): bigint {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= BigInt(byte);
    h = (h * FNV_PRIME) & MASK;
  }
  return h;
}

export function rowHash(table: string, id: string, v: number): bigint {
  return fnv1a64(`${table}:${id}:${v}`);
}

export function addMod64(a: bigint, b: bigint): bigint {
  return (a + b) & MASK;
}

export function subMod64(a: bigint, b: bigint): bigint {
  return (a - b) & MASK;
}

/** The signed int64 view of an unsigned 64-bit value (how the server column stores it). */
export function toSigned64(u: bigint): bigint {
  return BigInt.asIntN(64, u);
}

export function toUnsigned64(s: bigint): bigint {
  return BigInt.asUintN(64, s);
}

export interface BucketSum {
  count: number;
  sum: bigint;
}

export function bucketSum(rows: Iterable<{ table: string; id: string; v: number }>): BucketSum {
  let count = 0;
  let sum = 0n;
  for (const r of rows) {
    count += 1;
    sum = addMod64(sum, rowHash(r.table, r.id, r.v));
  }
  return { count, sum };
}

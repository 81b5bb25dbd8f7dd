/**
 * The shared vectors of docs/sync-protocol.md §13 (`sync/vectors/*.json`), run against
 * the TypeScript twin. The Python tests run the very same files.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { addMod64, fnv1a64, rowHash, toSigned64, toUnsigned64 } from "../src/sync/checksum";
import { compareHlc, formatHlc, parseHlc, receive, stamp } from "../src/sync/hlc";
import { applyFieldWrite, RESOLVERS_BY_NAME, type Register } from "../src/sync/merge";

const DIR = fileURLToPath(new URL("../../sync/vectors/", import.meta.url));

type Case = Record<string, any>;
type Doc = Record<string, Case[] | string>;

/** Big integers (signed sums) are kept as strings so no precision is lost in JSON.parse. */
function load(name: string): Doc | null {
  const path = `${DIR}${name}`;
  if (!existsSync(path)) return null;
  const raw = readFileSync(path, "utf8").replace(/("signed"\s*:\s*)(-?\d+)/g, '$1"$2"');
  return JSON.parse(raw) as Doc;
}

const group = (doc: Doc | null, key: string) => ((doc?.[key] as Case[] | undefined) ?? []);

const hlc = load("hlc.json");
const mergeDoc = load("merge.json");
const conflicts = load("conflicts.json");
const checksum = load("checksum.json");

describe.runIf(hlc)("hlc.json", () => {
  it("has cases of every kind", () => {
    for (const k of ["order", "stamp", "receive", "parse_invalid"]) expect(group(hlc, k).length, k).toBeGreaterThan(0);
  });
  for (const [i, c] of group(hlc, "order").entries())
    it(`order #${i}`, () => {
      expect(Math.sign(compareHlc(c.a, c.b))).toBe(c.cmp);
      expect(Math.sign(compareHlc(c.b, c.a))).toBe(-c.cmp || 0);
    });
  for (const [i, c] of group(hlc, "stamp").entries())
    it(`stamp #${i}`, () => expect(formatHlc(stamp(parseHlc(c.local), c.now))).toBe(c.expect));
  for (const [i, c] of group(hlc, "receive").entries())
    it(`receive #${i}`, () => expect(formatHlc(receive(parseHlc(c.local), parseHlc(c.remote), c.now))).toBe(c.expect));
  it("rejects every parse_invalid string", () => {
    for (const s of group(hlc, "parse_invalid") as unknown as string[]) expect(() => parseHlc(s), JSON.stringify(s)).toThrow();
  });
});

describe.runIf(mergeDoc)("merge.json", () => {
  for (const [i, c] of group(mergeDoc, "cases").entries()) {
    it(`${c.resolver} #${i}`, () => {
      const resolver = RESOLVERS_BY_NAME[c.resolver]!;
      expect(resolver(c.a as Register, c.b as Register)).toEqual(c.expect);
      expect(resolver(c.b as Register, c.a as Register)).toEqual(c.expect);
    });
  }
});

describe.runIf(conflicts)("conflicts.json", () => {
  for (const [i, c] of group(conflicts, "cases").entries()) {
    it(`${c.table}.${c.field} #${i}`, () => {
      const out = applyFieldWrite(c.table, c.field, c.current as Register | null, c.write);
      expect({ value: out.value, clock: out.clock }).toEqual({ value: c.expect.value, clock: c.expect.clock });
      expect(out.conflict).toEqual(c.expect.conflict);
    });
  }
});

describe.runIf(checksum)("checksum.json", () => {
  for (const [i, c] of group(checksum, "fnv").entries())
    it(`fnv #${i}`, () => expect(fnv1a64(c.input).toString(16).padStart(16, "0")).toBe(c.hash));
  for (const [i, c] of group(checksum, "bucket").entries())
    it(`bucket #${i}`, () => {
      let sum = 0n;
      for (const [table, id, v] of c.rows as Array<[string, string, number]>) sum = addMod64(sum, rowHash(table, id, v));
      expect(c.rows.length).toBe(c.count);
      expect(sum.toString(16).padStart(16, "0")).toBe(c.sum);
    });
  for (const [i, c] of group(checksum, "signed").entries())
    it(`signed #${i}`, () => {
      expect(toSigned64(BigInt(`0x${c.hex}`)).toString()).toBe(c.signed);
      expect(toUnsigned64(BigInt(c.signed)).toString(16).padStart(16, "0")).toBe(c.hex);
    });
});

describe("shared vectors", () => {
  it("all four vector files exist in sync/vectors/", () => {
    expect([!!hlc, !!mergeDoc, !!conflicts, !!checksum]).toEqual([true, true, true, true]);
  });
});

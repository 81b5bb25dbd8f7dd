/**
 * Applying pulled pages (R-PULL-2, R-PULL-3, R-BUCKET-4): `applyPage` reads and writes a
 * page's rows in bulk; what the replica holds afterwards must be what applying each change
 * on its own, in page order, gives. Checked on random pages against that one-by-one model.
 */
import { describe, expect, it } from "vitest";
import { RevisitDB, type SyncedRow } from "../src/db";
import { applyPage } from "../src/sync/apply";
import type { Change } from "../src/sync/protocol";

type Row = SyncedRow & Record<string, unknown>;
type Replica = Map<string, Row>; // `${table}:${id}` -> row

/** The rules of docs/sync-protocol.md R-PULL-3 and R-BUCKET-4, one change at a time. */
function model(replica: Replica, changes: Change[]): void {
  for (const ch of changes) {
    const key = `${ch.table}:${ch.id}`;
    const existing = replica.get(key);
    if (ch.op === "remove") {
      if (existing && existing._b === ch.bucket && existing.v < ch.v) replica.delete(key);
      continue;
    }
    if (existing && existing.v >= ch.v) continue;
    const deleted = ch.op === "delete" || ch.row?.deleted === true;
    replica.set(key, { ...(deleted ? existing : {}), ...ch.row, id: ch.id, v: ch.v, _b: ch.bucket, deleted, clocks: (ch.row?.clocks as Record<string, string>) ?? {} } as Row);
  }
}

/** A small deterministic PRNG (mulberry32), so a failure names its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TABLES = ["customers", "visits"] as const;
const BUCKETS = ["rep:u1", "region:r1"];

function randomChange(r: () => number): Change {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const table = pick(TABLES);
  const id = `x${Math.floor(r() * 5)}`;
  const v = 1 + Math.floor(r() * 12);
  const op = pick(["put", "put", "put", "delete", "remove"] as const);
  const bucket = pick(BUCKETS);
  if (op === "remove") return { bucket, table, id, v, op };
  const row: Record<string, unknown> = { id, name: `n${v}`, clocks: { name: `00000000000${v % 10}-0000-s` }, deleted: op === "delete" };
  if (op === "put" && r() < 0.1) row.deleted = true; // a tombstone sent as a put
  return { bucket, table, id, v, op, row };
}

async function contents(database: RevisitDB): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const t of TABLES) for (const row of await database.table(t).toArray()) out[`${t}:${row.id}`] = row;
  return out;
}

describe("applyPage", () => {
  it("leaves the replica as applying each change in page order would", async () => {
    for (let seed = 1; seed <= 120; seed++) {
      const r = rng(seed);
      const database = new RevisitDB(`apply-${seed}-${Math.random()}`);
      const replica: Replica = new Map();
      // what the device held before: rows from either bucket, tombstones among them
      for (let i = 0; i < 4; i++) {
        const ch = randomChange(r);
        if (ch.op === "remove") continue;
        model(replica, [ch]);
      }
      await database.transaction("rw", TABLES.map((t) => database.table(t)), async () => {
        for (const [key, row] of replica) await database.table(key.split(":")[0]!).put(row);
      });
      for (let p = 0; p < 3; p++) {
        const page = Array.from({ length: 1 + Math.floor(r() * 12) }, () => randomChange(r));
        model(replica, page);
        await applyPage(database, page, `cursor-${p}`);
        expect(await contents(database), `seed ${seed}, page ${p}`).toEqual(Object.fromEntries(replica));
      }
      database.close();
    }
  });

  it("returns the greatest field clock it stored, for R-HLC-6", async () => {
    const database = new RevisitDB(`apply-clock-${Math.random()}`);
    const change = (id: string, v: number, clocks: Record<string, string>): Change =>
      ({ bucket: "rep:u1", table: "customers", id, v, op: "put", row: { id, name: id, clocks } });
    const got = await applyPage(database, [
      change("a", 2, { name: "019a8b2c3d4e-0001-x" }),
      change("b", 3, { name: "019a8b2c3d4f-0000-y", phone: "019a8b2c3d4d-0009-z" }),
      change("a", 1, { name: "019a8b2c3d50-0000-stale" }), // re-delivered older version: not stored
    ], "c1");
    expect(got).toBe("019a8b2c3d4f-0000-y");
    expect((await database.customers.get("a"))!.v).toBe(2);
    database.close();
  });
});

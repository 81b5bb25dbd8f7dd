/**
 * Applying pulled pages to the replica (R-PULL-2, R-PULL-3, R-BUCKET-4, R-CUR-3): one
 * IndexedDB transaction per page, cursor included, with the unsent outbox laid on top.
 */
import type { Table } from "dexie";
import { REPLICA_TABLES, replicaTables, setMeta, type OutboxEntry, type RevisitDB, type SyncedRow } from "../db";
import { addMod64, rowHash } from "./checksum";
import type { BucketChecksum, Change } from "./protocol";

const KNOWN = new Set<string>(REPLICA_TABLES);

type Replica = SyncedRow & Record<string, unknown>;

/** R-GEN-1: the UI shows replica + outbox; pending puts win where their clock is newer. */
export function overlayPending(row: Replica, pending: OutboxEntry[]): Replica {
  let out = row;
  for (const e of pending) {
    if (e.kind !== "put") continue;
    for (const [k, value] of Object.entries(e.data)) {
      const current = out.clocks[k];
      if (current !== undefined && current >= e.clock) continue;
      out = { ...out, [k]: value, clocks: { ...out.clocks, [k]: e.clock } };
    }
  }
  return out;
}

/** The outcome of a page for one table: rows to write and ids to drop. */
export interface TableChanges {
  put: Map<string, Replica>;
  drop: Set<string>;
}

/**
 * R-PULL-2, R-PULL-3, R-BUCKET-4 as a pure function: the page's changes of one table, in
 * page order, applied to the rows the replica holds (`current`, id -> row or undefined;
 * updated in place, so a row named twice in one page sees its first change). Pending
 * puts are laid over what is written (R-GEN-1). Returns the greatest field clock seen.
 */
export function applyChanges(
  changes: Change[],
  current: Map<string, Replica | undefined>,
  pendingByRow: Map<string, OutboxEntry[]>,
  out: TableChanges,
): string | null {
  let maxClock: string | null = null;
  for (const ch of changes) {
    const existing = current.get(ch.id);
    if (ch.op === "remove") {
      // R-BUCKET-4: drop only the copy that came from this bucket
      if (existing && existing._b === ch.bucket && existing.v < ch.v) {
        current.set(ch.id, undefined);
        out.put.delete(ch.id);
        out.drop.add(ch.id);
      }
      continue;
    }
    if (existing && existing.v >= ch.v) continue; // re-delivered: harmless (R-PULL-3)
    let row: Replica;
    if (ch.op === "delete" || ch.row?.deleted === true) {
      // keep the tombstone so a stale re-delivered put cannot bring the row back
      row = { ...(existing ?? {}), ...(ch.row ?? {}), id: ch.id, v: ch.v, _b: ch.bucket, deleted: true, clocks: (ch.row?.clocks as Record<string, string>) ?? existing?.clocks ?? {} };
    } else {
      row = { ...(ch.row ?? {}), id: ch.id, v: ch.v, _b: ch.bucket } as Replica;
      row.clocks = (row.clocks as Record<string, string> | undefined) ?? {};
      row.deleted = false;
      for (const c of Object.values(row.clocks)) if (maxClock === null || c > maxClock) maxClock = c;
      row = overlayPending(row, pendingByRow.get(`${ch.table}:${ch.id}`) ?? []);
    }
    current.set(ch.id, row);
    out.drop.delete(ch.id);
    out.put.set(ch.id, row);
  }
  return maxClock;
}

/**
 * One IndexedDB transaction per page, cursor included. Each table's rows are read with
 * one `bulkGet` and written with one `bulkPut` (and `bulkDelete`): a `get` and a `put`
 * awaited per change left the page idle between IndexedDB's answers, most of an initial
 * sync's time (docs/benchmarks.md, "The PWA's initial sync"). Returns the greatest field
 * clock seen, for R-HLC-6.
 */
export async function applyPage(
  database: RevisitDB,
  changes: Change[],
  cursor: string,
): Promise<string | null> {
  const tables = replicaTables(database);
  let maxClock: string | null = null;
  await database.transaction("rw", [...tables, database.outbox, database.meta], async () => {
    const unsent = (await database.outbox.where("status").anyOf("pending", "sent").toArray()).sort((a, b) => a.n - b.n);
    const pendingByRow = new Map<string, OutboxEntry[]>();
    for (const e of unsent) {
      const k = `${e.table}:${e.row_id}`;
      pendingByRow.set(k, [...(pendingByRow.get(k) ?? []), e]);
    }
    const byTable = new Map<string, Change[]>();
    for (const ch of changes) {
      if (!KNOWN.has(ch.table)) continue; // a newer server may sync tables this version does not show
      const list = byTable.get(ch.table);
      if (list) list.push(ch);
      else byTable.set(ch.table, [ch]);
    }
    for (const [name, list] of byTable) {
      const table = database.table(name) as Table<Replica, string>;
      const ids = [...new Set(list.map((ch) => ch.id))];
      const rows = await table.bulkGet(ids);
      const current = new Map(ids.map((id, i) => [id, rows[i]]));
      const out: TableChanges = { put: new Map(), drop: new Set() };
      const seen = applyChanges(list, current, pendingByRow, out);
      if (seen !== null && (maxClock === null || seen > maxClock)) maxClock = seen;
      if (out.drop.size) await table.bulkDelete([...out.drop]);
      if (out.put.size) await table.bulkPut([...out.put.values()]);
    }
    await setMeta("cursor", cursor, database);
  });
  return maxClock;
}

/** R-SUM-3: count and FNV sum of the replica's server rows, per bucket. */
export async function replicaChecksums(database: RevisitDB, buckets: string[]): Promise<Record<string, BucketChecksum>> {
  const out: Record<string, BucketChecksum> = {};
  for (const b of buckets) {
    let count = 0;
    let sum = 0n;
    for (const name of REPLICA_TABLES) {
      const rows = (await database.table(name).where("_b").equals(b).toArray()) as SyncedRow[];
      for (const r of rows) {
        if (r.v <= 0 || r.deleted) continue;
        count += 1;
        sum = addMod64(sum, rowHash(name, r.id, r.v));
      }
    }
    out[b] = { count, sum: sum.toString(16).padStart(16, "0") };
  }
  return out;
}

/** Drop server rows (of one bucket, or all); local-only rows (v = 0) and the outbox stay. */
export async function dropReplica(database: RevisitDB, bucket?: string): Promise<void> {
  const tables = replicaTables(database);
  await database.transaction("rw", [...tables, database.meta], async () => {
    for (const t of tables) {
      if (bucket) await t.where("_b").equals(bucket).delete();
      else await t.filter((r) => r.v > 0).delete();
    }
    await setMeta("cursor", null, database);
  });
}

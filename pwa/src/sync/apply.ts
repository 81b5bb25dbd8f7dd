/**
 * Applying pulled pages to the replica (R-PULL-2, R-PULL-3, R-BUCKET-4, R-CUR-3): one
 * IndexedDB transaction per page, cursor included, with the unsent outbox laid on top.
 */
import { REPLICA_TABLES, replicaTables, setMeta, type OutboxEntry, type RevisitDB, type SyncedRow } from "../db";
import { addMod64, rowHash } from "./checksum";
import type { BucketChecksum, Change } from "./protocol";

const KNOWN = new Set<string>(REPLICA_TABLES);

/** R-GEN-1: the UI shows replica + outbox; pending puts win where their clock is newer. */
export function overlayPending(row: SyncedRow & Record<string, unknown>, pending: OutboxEntry[]): SyncedRow & Record<string, unknown> {
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

/** Returns the greatest field clock seen, for R-HLC-6. */
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
    for (const ch of changes) {
      if (!KNOWN.has(ch.table)) continue; // a newer server may sync tables this version does not show
      const table = database.table(ch.table);
      const existing = (await table.get(ch.id)) as SyncedRow | undefined;
      if (ch.op === "remove") {
        // R-BUCKET-4: drop only the copy that came from this bucket
        if (existing && existing._b === ch.bucket && existing.v < ch.v) await table.delete(ch.id);
        continue;
      }
      if (existing && existing.v >= ch.v) continue; // re-delivered: harmless (R-PULL-3)
      if (ch.op === "delete" || ch.row?.deleted === true) {
        // keep the tombstone so a stale re-delivered put cannot bring the row back
        await table.put({ ...(existing ?? {}), ...(ch.row ?? {}), id: ch.id, v: ch.v, _b: ch.bucket, deleted: true, clocks: (ch.row?.clocks as Record<string, string>) ?? existing?.clocks ?? {} });
        continue;
      }
      const row = { ...(ch.row ?? {}), id: ch.id, v: ch.v, _b: ch.bucket } as SyncedRow & Record<string, unknown>;
      row.clocks = (row.clocks as Record<string, string> | undefined) ?? {};
      row.deleted = false;
      for (const c of Object.values(row.clocks)) if (maxClock === null || c > maxClock) maxClock = c;
      await table.put(overlayPending(row, pendingByRow.get(`${ch.table}:${ch.id}`) ?? []));
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

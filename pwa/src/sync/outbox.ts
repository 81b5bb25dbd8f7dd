/**
 * The outbox (R-PUSH): every local write goes into the replica and the outbox in one
 * IndexedDB transaction, numbered 1, 2, 3, ... per device, stamped with the device's HLC.
 * Nothing here touches the network.
 */
import {
  db,
  getMeta,
  setMeta,
  type Clocks,
  type OutboxEntry,
  type ReplicaTable,
  type RevisitDB,
  type SyncedRow,
} from "../db";
import { uuid4 } from "../ids";
import { formatHlc, parseHlc, receive, stamp, zero } from "./hlc";

type Listener = () => void;
const writeListeners = new Set<Listener>();

/** The sync scheduler listens here to sync "soon after each write". */
export function onLocalWrite(fn: Listener): () => void {
  writeListeners.add(fn);
  return () => writeListeners.delete(fn);
}

function wroteLocally(): void {
  for (const fn of writeListeners) fn();
}

/** This browser profile's client id (R-PUSH: one device = one database). */
export async function clientId(database: RevisitDB = db()): Promise<string> {
  let id = await getMeta("client_id", "", database);
  if (!id) {
    id = uuid4();
    await setMeta("client_id", id, database);
  }
  return id;
}

async function clockState(database: RevisitDB) {
  const node = await clientId(database);
  const offset = await getMeta("clock_offset", 0, database);
  const lastS = await getMeta("last_clock", "", database);
  const last = lastS ? parseHlc(lastS) : zero(node);
  return { last: last.node === node ? last : { ...last, node }, offset };
}

/** Next local HLC (R-HLC-3, R-HLC-7: wall time corrected by the server offset). Call inside a rw tx on meta. */
export async function nextClock(database: RevisitDB = db(), wallMs: number = Date.now()): Promise<string> {
  const { last, offset } = await clockState(database);
  const next = formatHlc(stamp(last, wallMs + offset));
  await setMeta("last_clock", next, database);
  return next;
}

/** R-HLC-6: merge a clock seen from the server into the local clock. */
export async function observeClock(remote: string, database: RevisitDB = db(), wallMs: number = Date.now()): Promise<void> {
  const { last, offset } = await clockState(database);
  await setMeta("last_clock", formatHlc(receive(last, parseHlc(remote), wallMs + offset)), database);
}

async function takeNumber(database: RevisitDB): Promise<number> {
  const n = await getMeta("next_n", 1, database);
  await setMeta("next_n", n + 1, database);
  return n;
}

type NewEntry = Omit<OutboxEntry, "n" | "clock" | "status" | "code" | "message" | "created_at" | "attempts">;

async function enqueue(database: RevisitDB, entry: NewEntry, clock: string): Promise<OutboxEntry> {
  const full: OutboxEntry = {
    ...entry,
    n: await takeNumber(database),
    clock,
    status: "pending",
    code: null,
    message: null,
    created_at: new Date().toISOString(),
    attempts: 0,
  };
  await database.outbox.add(full);
  return full;
}

const META_FIELDS = new Set(["id", "clocks", "deleted", "v"]);

/** Insert-only fact (visit, gift, note, ...): the row and its `create` mutation (R-CREATE). */
export async function createRow<T extends SyncedRow>(
  table: ReplicaTable,
  row: Omit<T, "clocks" | "deleted" | "v">,
  database: RevisitDB = db(),
): Promise<T> {
  const saved = await database.transaction("rw", [database.table(table), database.outbox, database.meta], async () => {
    const clock = await nextClock(database);
    const clocks: Clocks = {};
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (META_FIELDS.has(k)) continue;
      clocks[k] = clock;
      data[k] = v;
    }
    const full = { ...row, clocks, deleted: false, v: 0 } as unknown as T;
    await database.table(table).put(full);
    await enqueue(database, { kind: "create", table, row_id: row.id, data, base: {}, prev: {} }, clock);
    return full;
  });
  wroteLocally();
  return saved;
}

/** Several creates in one local transaction (a visit with its gifts and note). */
export async function createRows(
  rows: Array<{ table: ReplicaTable; row: Record<string, unknown> & { id: string } }>,
  database: RevisitDB = db(),
): Promise<void> {
  const tables = [...new Set(rows.map((r) => r.table))].map((t) => database.table(t));
  await database.transaction("rw", [...tables, database.outbox, database.meta], async () => {
    for (const { table, row } of rows) {
      const clock = await nextClock(database);
      const clocks: Clocks = {};
      const data: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (META_FIELDS.has(k)) continue;
        clocks[k] = clock;
        data[k] = v;
      }
      await database.table(table).put({ ...row, clocks, deleted: false, v: 0 });
      await enqueue(database, { kind: "create", table, row_id: row.id, data, base: {}, prev: {} }, clock);
    }
  });
  wroteLocally();
}

/**
 * Change mutable fields (R-PUT): each field carries the clock the device last saw for it
 * (its base), so the server can tell a concurrent write and keep the loser as a conflict.
 */
export async function putFields(
  table: ReplicaTable,
  id: string,
  fields: Record<string, unknown>,
  database: RevisitDB = db(),
): Promise<OutboxEntry | null> {
  const entry = await database.transaction("rw", [database.table(table), database.outbox, database.meta], async () => {
    const row = (await database.table(table).get(id)) as (SyncedRow & Record<string, unknown>) | undefined;
    if (!row) throw new Error(`${table} ${id} is not on this device`);
    const changed: Record<string, unknown> = {};
    const base: Clocks = {};
    const prev: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (META_FIELDS.has(k) && k !== "deleted") continue;
      if (JSON.stringify(row[k]) === JSON.stringify(v)) continue;
      changed[k] = v;
      base[k] = row.clocks[k] ?? "";
      prev[k] = row[k];
    }
    if (Object.keys(changed).length === 0) return null;
    const clock = await nextClock(database);
    const clocks = { ...row.clocks };
    for (const k of Object.keys(changed)) clocks[k] = clock;
    await database.table(table).put({ ...row, ...changed, clocks });
    return enqueue(database, { kind: "put", table, row_id: id, data: changed, base, prev }, clock);
  });
  if (entry) wroteLocally();
  return entry;
}

/** A server-decided operation (R-CMD), e.g. reassign_customer. */
export async function sendCommand(
  name: string,
  args: Record<string, unknown>,
  subjectId = "",
  database: RevisitDB = db(),
): Promise<OutboxEntry> {
  const entry = await database.transaction("rw", [database.outbox, database.meta], async () => {
    const clock = await nextClock(database);
    return enqueue(database, { kind: "command", table: name, row_id: subjectId, data: args, base: {}, prev: {} }, clock);
  });
  wroteLocally();
  return entry;
}

/** Unsynced work: pending or sent-but-unanswered, plus rejected items waiting for the user. */
export async function outboxCounts(database: RevisitDB = db()): Promise<{ unsent: number; rejected: number }> {
  const unsent = await database.outbox.where("status").anyOf("pending", "sent").count();
  const rejected = await database.outbox.where("status").equals("rejected").count();
  return { unsent, rejected };
}

/**
 * Discard a refused mutation: a create's local row goes away, a put's fields go back to
 * their value before the write (if nothing newer replaced them).
 */
export async function discardRejected(key: number, database: RevisitDB = db()): Promise<void> {
  const tables = [...new Set((await database.outbox.toArray()).map((e) => e.table))].filter((t) =>
    database.tables.some((x) => x.name === t),
  );
  await database.transaction("rw", [database.outbox, ...tables.map((t) => database.table(t))], async () => {
    const e = await database.outbox.get(key);
    if (!e || e.status !== "rejected") return;
    if (e.kind === "create" && database.tables.some((x) => x.name === e.table)) {
      const row = (await database.table(e.table).get(e.row_id)) as SyncedRow | undefined;
      if (row && row.v === 0) await database.table(e.table).delete(e.row_id);
    } else if (e.kind === "put") {
      const row = (await database.table(e.table).get(e.row_id)) as (SyncedRow & Record<string, unknown>) | undefined;
      if (row) {
        const clocks = { ...row.clocks };
        const patch: Record<string, unknown> = {};
        for (const k of Object.keys(e.data)) {
          if (clocks[k] !== e.clock) continue;
          patch[k] = e.prev[k];
          if (e.base[k]) clocks[k] = e.base[k]!;
          else delete clocks[k];
        }
        await database.table(e.table).put({ ...row, ...patch, clocks });
      }
    }
    await database.outbox.delete(key);
  });
}

/**
 * Fix a refused mutation: the corrected data goes out as a new mutation (the refused
 * number stays consumed on the server, R-PUSH) and the local row is updated to match.
 */
export async function resubmitRejected(
  key: number,
  data: Record<string, unknown>,
  database: RevisitDB = db(),
): Promise<void> {
  const e = await database.outbox.get(key);
  if (!e || e.status !== "rejected") return;
  const isTable = database.tables.some((x) => x.name === e.table);
  const tables = isTable ? [database.table(e.table)] : [];
  await database.transaction("rw", [database.outbox, database.meta, ...tables], async () => {
    const clock = await nextClock(database);
    if (isTable && e.kind !== "command") {
      const row = (await database.table(e.table).get(e.row_id)) as (SyncedRow & Record<string, unknown>) | undefined;
      if (row) {
        const clocks = { ...row.clocks };
        for (const k of Object.keys(data)) clocks[k] = clock;
        await database.table(e.table).put({ ...row, ...data, clocks });
      }
    }
    await database.outbox.delete(key);
    await enqueue(
      database,
      { kind: e.kind, table: e.table, row_id: e.row_id, data: { ...e.data, ...data }, base: e.base, prev: e.prev },
      clock,
    );
  });
  wroteLocally();
}

/** Mutations not yet acknowledged, in push order (R-PUSH-7). */
export async function unsentEntries(database: RevisitDB = db(), limit = Infinity): Promise<OutboxEntry[]> {
  const rows = await database.outbox.where("status").anyOf("pending", "sent").toArray();
  rows.sort((a, b) => a.n - b.n);
  return rows.slice(0, limit);
}

/**
 * R-HLC-9: after `clock_skew`, adopt the server offset, restart the clock from the
 * corrected wall time, and give each unsent mutation a fresh stamp in outbox order.
 * Bases and replica clocks that pointed at an old stamp follow it.
 */
export async function restampUnsent(
  serverClock: string,
  offsetMs: number,
  database: RevisitDB = db(),
  wallMs: number = Date.now(),
): Promise<number> {
  const tables = database.tables.filter((t) => t.name !== "meta" && t.name !== "drafts");
  return database.transaction("rw", tables.concat(database.meta), async () => {
    await setMeta("clock_offset", offsetMs, database);
    const node = await clientId(database);
    const now = wallMs + offsetMs;
    let state = receive({ physical: Math.max(0, Math.floor(now)), counter: 0, node }, parseHlc(serverClock), now);
    const entries = await unsentEntries(database);
    const renamed = new Map<string, string>();
    for (const e of entries) {
      state = stamp(state, now);
      renamed.set(e.clock, formatHlc(state));
    }
    for (const e of entries) {
      const fresh = renamed.get(e.clock)!;
      const base: Clocks = {};
      for (const [k, b] of Object.entries(e.base)) base[k] = renamed.get(b) ?? b;
      await database.outbox.update(e.key!, { clock: fresh, base });
      if (e.kind === "command" || !database.tables.some((x) => x.name === e.table)) continue;
      const row = (await database.table(e.table).get(e.row_id)) as SyncedRow | undefined;
      if (!row) continue;
      const clocks = { ...row.clocks };
      let touched = false;
      for (const [k, c] of Object.entries(clocks)) {
        const r = renamed.get(c);
        if (r) {
          clocks[k] = r;
          touched = true;
        }
      }
      if (touched) await database.table(e.table).put({ ...row, clocks });
    }
    await setMeta("last_clock", formatHlc(state), database);
    return entries.length;
  });
}

/** R-PUSH-8: the server expects a lower number (restored backup): renumber unsent from it. */
export async function renumberUnsent(expected: number, database: RevisitDB = db()): Promise<void> {
  await database.transaction("rw", database.outbox, database.meta, async () => {
    const entries = await unsentEntries(database);
    let n = expected;
    for (const e of entries) await database.outbox.update(e.key!, { n: n++ });
    await setMeta("next_n", n, database);
  });
}

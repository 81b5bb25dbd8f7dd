/**
 * The one typed door to IndexedDB (Dexie). The page and the service worker both use it.
 *
 * Replica tables mirror the server's synced tables (docs/sync-protocol.md): each row is
 * the server's wire row (same field names as server/tables.py) with its per-field clocks,
 * tombstone flag and change version `v`. Local writes land here first and in `outbox` in
 * the same IndexedDB transaction, so the UI never waits for the network.
 *
 * Schema versions and migrations live only in this file.
 */
import Dexie, { type EntityTable, type Table } from "dexie";

export type Clocks = Record<string, string>;

/** Sync metadata carried by every replicated row. */
export interface SyncedRow {
  id: string;
  /** field -> HLC of its last write (R-MERGE) */
  clocks: Clocks;
  deleted: boolean;
  /** server change version (seq); 0 while the row exists only on this device */
  v: number;
  /** local only: the bucket the server delivered the row in (R-BUCKET-2, for R-SUM-3) */
  _b?: string;
}

export type Tier = "A" | "B" | "C";
export type Stage = "prospect" | "contacted" | "active" | "key" | "at_risk" | "lost";

export interface Customer extends SyncedRow {
  name: string;
  kind: string;
  tier: Tier;
  key_account: boolean;
  stage: Stage;
  owner_id: string | null;
  region_id: string | null;
  address: string;
  latitude: number | null;
  longitude: number | null;
  phone: string;
  tags: string[];
  preferences: string;
  external_id: string | null;
  archived: boolean;
  created_at: string;
}

export interface Contact extends SyncedRow {
  customer_id: string;
  owner_id: string | null;
  region_id: string | null;
  name: string;
  title: string;
  phone: string;
  email: string;
  created_at: string;
}

export interface Visit extends SyncedRow {
  customer_id: string;
  rep_id: string;
  owner_id: string | null;
  region_id: string | null;
  planned_for: string | null;
  started_at: string;
  ended_at: string | null;
  latitude: number | null;
  longitude: number | null;
  accuracy: number | null;
  purpose: string;
  outcome: string;
  satisfaction: number | null;
  order_value: string;
  currency: string;
  notes: string;
  created_at: string;
}

export interface Gift extends SyncedRow {
  customer_id: string;
  visit_id: string | null;
  rep_id: string;
  owner_id: string | null;
  region_id: string | null;
  item_id: string;
  quantity: number;
  unit_value: string;
  currency: string;
  given_at: string;
  over_cap: boolean;
  review_status: string;
  review_comment: string;
}

export type NoteKind = "note" | "complaint" | "feedback";

export interface Note extends SyncedRow {
  customer_id: string;
  author_id: string;
  owner_id: string | null;
  region_id: string | null;
  kind: NoteKind;
  body: string;
  status: string | null;
  resolved_at: string | null;
  created_at: string;
}

export interface PlannedRevisit extends SyncedRow {
  customer_id: string;
  rep_id: string | null;
  owner_id: string | null;
  region_id: string | null;
  due_date: string;
  source: string;
  status: string;
  created_at: string;
}

export interface ConflictRow extends SyncedRow {
  tbl: string;
  row_id: string;
  field: string;
  losing_value: string;
  losing_clock: string;
  losing_author: string | null;
  winning_value: string;
  winning_clock: string;
  customer_id: string | null;
  owner_id: string | null;
  region_id: string | null;
  status: string;
  created_at: string;
}

export interface GiftItem extends SyncedRow {
  name_en: string;
  name_zh: string;
  unit_value: string;
  currency: string;
  yearly_cap: string;
  active: boolean;
}

export interface CadenceRule extends SyncedRow {
  tier: Tier;
  region_id: string | null;
  stage: string | null;
  interval_days: number;
  reminder_lead_days: number;
}

export interface Region extends SyncedRow {
  name: string;
  time_zone: string;
}

export interface UserRow extends SyncedRow {
  username: string;
  display_name: string;
  role: string;
  region_id: string | null;
  locale: string;
  time_zone: string;
  active: boolean;
}

export interface StockMovement extends SyncedRow {
  rep_id: string;
  item_id: string;
  delta: number;
  reason: string;
  created_at: string;
  owner_id: string | null;
  region_id: string | null;
}

export type MutationKind = "create" | "put" | "command";
export type OutboxStatus = "pending" | "sent" | "rejected";

/** One local write waiting for (or refused by) the server (R-PUSH). */
export interface OutboxEntry {
  /** local storage key (insertion order); `n` can be renumbered (R-PUSH-8), this cannot */
  key?: number;
  /** the device's contiguous mutation number: 1, 2, 3, ... (R-PUSH-2) */
  n: number;
  kind: MutationKind;
  /** table for create/put, command name for command */
  table: string;
  /** row id (create/put); the command's subject id if any */
  row_id: string;
  /** create: full row; put: changed fields; command: arguments */
  data: Record<string, unknown>;
  /** put only: field -> clock the device last saw for that field (its base) */
  base: Clocks;
  /** put only: field -> value before this write, so a discard can put it back */
  prev: Record<string, unknown>;
  /** HLC stamped when written (re-stamped on clock_skew, order kept) */
  clock: string;
  status: OutboxStatus;
  code: string | null;
  message: string | null;
  created_at: string;
  attempts: number;
}

export interface MetaEntry {
  key: string;
  value: unknown;
}

export interface Draft {
  key: string;
  value: Record<string, unknown>;
  updated_at: string;
}

export const REPLICA_TABLES = [
  "customers",
  "contacts",
  "visits",
  "gifts",
  "notes",
  "planned_revisits",
  "conflicts",
  "gift_items",
  "cadence_rules",
  "regions",
  "users",
  "stock_movements",
] as const;
export type ReplicaTable = (typeof REPLICA_TABLES)[number];

export interface RowTypes {
  customers: Customer;
  contacts: Contact;
  visits: Visit;
  gifts: Gift;
  notes: Note;
  planned_revisits: PlannedRevisit;
  conflicts: ConflictRow;
  gift_items: GiftItem;
  cadence_rules: CadenceRule;
  regions: Region;
  users: UserRow;
  stock_movements: StockMovement;
}

export class RevisitDB extends Dexie {
  customers!: EntityTable<Customer, "id">;
  contacts!: EntityTable<Contact, "id">;
  visits!: EntityTable<Visit, "id">;
  gifts!: EntityTable<Gift, "id">;
  notes!: EntityTable<Note, "id">;
  planned_revisits!: EntityTable<PlannedRevisit, "id">;
  conflicts!: EntityTable<ConflictRow, "id">;
  gift_items!: EntityTable<GiftItem, "id">;
  cadence_rules!: EntityTable<CadenceRule, "id">;
  regions!: EntityTable<Region, "id">;
  users!: EntityTable<UserRow, "id">;
  stock_movements!: EntityTable<StockMovement, "id">;
  outbox!: EntityTable<OutboxEntry, "key">;
  meta!: EntityTable<MetaEntry, "key">;
  drafts!: EntityTable<Draft, "key">;

  constructor(name = "revisit") {
    super(name);
    // Version history. Add a new version(N) block for each change; never edit old ones.
    this.version(1).stores({
      customers: "id, name, tier, stage, owner_id, phone, _b",
      contacts: "id, customer_id, _b",
      visits: "id, customer_id, started_at, _b",
      gifts: "id, customer_id, visit_id, given_at, _b",
      notes: "id, customer_id, created_at, _b",
      planned_revisits: "id, customer_id, due_date, status, _b",
      conflicts: "id, customer_id, status, row_id, _b",
      gift_items: "id, _b",
      cadence_rules: "id, _b",
      regions: "id, _b",
      users: "id, _b",
      stock_movements: "id, rep_id, _b",
      outbox: "++key, n, status, row_id",
      meta: "key",
      drafts: "key",
    });
  }

  table_<T extends ReplicaTable>(name: T): Table<RowTypes[T], string> {
    return this.table(name) as Table<RowTypes[T], string>;
  }
}

let current: RevisitDB | null = null;

/** The app's database (one per browser profile = one sync device, R-PUSH). */
export function db(): RevisitDB {
  if (!current) current = new RevisitDB();
  return current;
}

/** Tests and logout swap or reset the database. */
export function useDatabase(next: RevisitDB): void {
  current = next;
}

// --- meta: small typed key-value store ------------------------------------------------

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export interface SessionUser {
  id: string;
  username: string;
  display_name: string;
  role: "rep" | "manager" | "admin";
  region_id: string | null;
  locale: string;
  time_zone: string;
}

export interface MetaTypes {
  client_id: string;
  next_n: number;
  cursor: string | null;
  last_sync: string | null;
  last_attempt: string | null;
  last_error: string | null;
  clock_offset: number;
  last_clock: string;
  tokens: Tokens | null;
  user: SessionUser | null;
  locale: string;
  needs_login: boolean;
  needs_update: boolean;
  notifications: boolean;
  push_endpoint: string | null;
  checksums: Record<string, { count: number; checksum: string }>;
}

export async function getMeta<K extends keyof MetaTypes>(
  key: K,
  fallback: MetaTypes[K],
  database: RevisitDB = db(),
): Promise<MetaTypes[K]> {
  const row = await database.meta.get(key);
  return row === undefined ? fallback : (row.value as MetaTypes[K]);
}

export async function setMeta<K extends keyof MetaTypes>(
  key: K,
  value: MetaTypes[K],
  database: RevisitDB = db(),
): Promise<void> {
  await database.meta.put({ key, value });
}

/** Every replica row table, for wiping on logout and resync. */
export function replicaTables(database: RevisitDB = db()): Table<SyncedRow, string>[] {
  return REPLICA_TABLES.map((t) => database.table(t) as Table<SyncedRow, string>);
}

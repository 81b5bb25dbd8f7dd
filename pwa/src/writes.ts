/**
 * What the user does, as local writes: replica + outbox in one transaction, UI updates at
 * once through liveQuery, sync happens later in the background (DESIGN property 1).
 */
import { addDays, todayIn } from "./dates";
import { db, getMeta, type ConflictRow, type Customer, type NoteKind, type ReplicaTable } from "./db";
import { uuid7 } from "./ids";
import { planIdAfterVisit, ruleFor } from "./planning";
import { createRows, putFields } from "./sync/outbox";

export interface GiftLine {
  item_id: string;
  quantity: number;
  unit_value: string;
  currency: string;
}

export interface VisitInput {
  customer: Customer;
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
  gifts: GiftLine[];
  next_visit: string | null;
}

async function me(): Promise<string> {
  const user = await getMeta("user", null);
  if (!user) throw new Error("not signed in");
  return user.id;
}

/** A visit, its gifts and the next planned visit, written together. Returns the visit id. */
export async function logVisit(v: VisitInput): Promise<string> {
  const repId = await me();
  const visitId = uuid7();
  const scope = { owner_id: v.customer.owner_id, region_id: v.customer.region_id };
  const rows: Array<{ table: ReplicaTable; row: Record<string, unknown> & { id: string } }> = [
    {
      table: "visits",
      row: {
        id: visitId,
        customer_id: v.customer.id,
        rep_id: repId,
        ...scope,
        planned_for: v.planned_for,
        started_at: v.started_at,
        ended_at: v.ended_at,
        latitude: v.latitude,
        longitude: v.longitude,
        accuracy: v.accuracy,
        purpose: v.purpose,
        outcome: v.outcome,
        satisfaction: v.satisfaction,
        order_value: v.order_value,
        currency: v.currency,
        notes: v.notes,
        created_at: new Date().toISOString(),
      },
    },
  ];
  for (const g of v.gifts) {
    rows.push({
      table: "gifts",
      row: {
        id: uuid7(),
        customer_id: v.customer.id,
        visit_id: visitId,
        rep_id: repId,
        ...scope,
        item_id: g.item_id,
        quantity: g.quantity,
        unit_value: g.unit_value,
        currency: g.currency,
        given_at: v.started_at,
      },
    });
  }
  const nextPlanId = await planIdAfterVisit(v.customer.id, visitId); // WebCrypto: before the transaction
  const database = db();
  // One transaction, in the order docs/scheduling.md gives: the next plan, the old plans
  // done, then the visit (so the server finds the rep's date already there and keeps it).
  await database.transaction(
    "rw",
    [database.visits, database.gifts, database.planned_revisits, database.cadence_rules, database.regions, database.outbox, database.meta],
    async () => {
      await planAfterVisit(v.customer, nextPlanId, v.started_at, v.next_visit);
      await createRows(rows);
    },
  );
  return visitId;
}

/** The customer's time zone for local dates: its region's, else the user's. */
async function zoneOf(customer: Customer): Promise<string | undefined> {
  const region = customer.region_id ? await db().regions.get(customer.region_id) : undefined;
  return region?.time_zone ?? (await getMeta("user", null))?.time_zone;
}

/** The cadence date that follows a visit (local visit date + the rule's interval). */
export async function cadenceDateAfter(customer: Customer, startedAt: string): Promise<string | null> {
  const rule = ruleFor(await db().cadence_rules.toArray(), customer);
  if (!rule) return null;
  return addDays(todayIn(await zoneOf(customer), new Date(startedAt)), rule.interval_days);
}

/**
 * Mirror of the server's reaction to a visit (server/planning/cadence.py): the plan that
 * follows the visit gets the deterministic id the server computes, so both write the same
 * plan, and the open plans are done. A date the rep chose makes it a manual plan, which the
 * server keeps (manual wins).
 */
async function planAfterVisit(customer: Customer, planId: string, startedAt: string, chosen: string | null): Promise<void> {
  const open = await db()
    .planned_revisits.where("customer_id")
    .equals(customer.id)
    .filter((p) => !p.deleted && p.status === "planned")
    .toArray();
  const cadence = await cadenceDateAfter(customer, startedAt);
  const manual = chosen && chosen !== cadence;
  const due = manual ? chosen : cadence;
  if (due) await createPlan(customer, planId, due, manual ? "manual" : "cadence");
  for (const p of open) await putFields("planned_revisits", p.id, { status: "done" });
}

async function createPlan(customer: Customer, id: string, due: string, source: "manual" | "cadence"): Promise<void> {
  await createRows([
    {
      table: "planned_revisits",
      row: {
        id,
        customer_id: customer.id,
        rep_id: customer.owner_id,
        owner_id: customer.owner_id,
        region_id: customer.region_id,
        due_date: due,
        source,
        status: "planned",
        created_at: new Date().toISOString(),
      },
    },
  ]);
}

export async function addNote(customer: Customer, kind: NoteKind, body: string): Promise<string> {
  const id = uuid7();
  await createRows([
    {
      table: "notes",
      row: {
        id,
        customer_id: customer.id,
        author_id: await me(),
        owner_id: customer.owner_id,
        region_id: customer.region_id,
        kind,
        body,
        status: kind === "complaint" ? "open" : null,
        resolved_at: null,
        created_at: new Date().toISOString(),
      },
    },
  ]);
  return id;
}

export const EDITABLE_CUSTOMER_FIELDS = ["name", "phone", "address", "preferences", "tier", "stage"] as const;

export async function editCustomer(id: string, fields: Partial<Pick<Customer, (typeof EDITABLE_CUSTOMER_FIELDS)[number]>>): Promise<void> {
  await putFields("customers", id, fields);
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Restoring a losing value is an ordinary put (R-CONFLICT), and the record is closed. */
export async function restoreConflict(c: ConflictRow): Promise<void> {
  await putFields(c.tbl as ReplicaTable, c.row_id, { [c.field]: parseJson(c.losing_value) });
  await putFields("conflicts", c.id, { status: "restored" });
}

export async function dismissConflict(c: ConflictRow): Promise<void> {
  await putFields("conflicts", c.id, { status: "dismissed" });
}

export function conflictValue(s: string): string {
  const v = parseJson(s);
  if (v === null || v === undefined || v === "") return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Read models for the screens, straight from the local replica (never the network). */
import { db, type Customer, type Gift, type GiftItem, type Note, type PlannedRevisit, type Visit } from "./db";
import { addDays, daysBetween } from "./dates";

export interface PlanItem {
  plan: PlannedRevisit;
  customer: Customer;
  overdueDays: number;
}

const TIER_RANK: Record<string, number> = { A: 0, B: 1, C: 2 };

/** Planned revisits due by `today + horizon`, overdue first, then date, then tier. */
export async function todayPlan(today: string, horizonDays = 7): Promise<PlanItem[]> {
  const until = addDays(today, horizonDays);
  const plans = await db()
    .planned_revisits.where("due_date")
    .belowOrEqual(until)
    .filter((p) => !p.deleted && p.status === "planned")
    .toArray();
  const customers = await db().customers.bulkGet([...new Set(plans.map((p) => p.customer_id))]);
  const byId = new Map(customers.filter((c): c is Customer => !!c && !c.deleted && !c.archived).map((c) => [c.id, c]));
  const seen = new Set<string>();
  const items: PlanItem[] = [];
  for (const plan of plans.sort((a, b) => a.due_date.localeCompare(b.due_date))) {
    const customer = byId.get(plan.customer_id);
    if (!customer || seen.has(customer.id)) continue; // one line per customer: its earliest plan
    seen.add(customer.id);
    items.push({ plan, customer, overdueDays: Math.max(0, daysBetween(plan.due_date, today)) });
  }
  return items.sort(
    (a, b) =>
      a.plan.due_date.localeCompare(b.plan.due_date) ||
      (TIER_RANK[a.customer.tier] ?? 3) - (TIER_RANK[b.customer.tier] ?? 3) ||
      a.customer.name.localeCompare(b.customer.name),
  );
}

export async function allCustomers(): Promise<Customer[]> {
  const rows = await db().customers.filter((c) => !c.deleted && !c.archived).toArray();
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

export interface CustomerFilter {
  text: string;
  tier: string;
  stage: string;
}

/** Name or phone substring (case-insensitive, digits-only match for phones) plus tier/stage. */
export function filterCustomers(rows: Customer[], f: CustomerFilter): Customer[] {
  const q = f.text.trim().toLowerCase();
  const digits = q.replace(/\D/g, "");
  return rows.filter((c) => {
    if (f.tier && c.tier !== f.tier) return false;
    if (f.stage && c.stage !== f.stage) return false;
    if (!q) return true;
    if (c.name.toLowerCase().includes(q)) return true;
    return digits.length >= 3 && c.phone.replace(/\D/g, "").includes(digits);
  });
}

export type TimelineEntry =
  | { kind: "visit"; at: string; row: Visit; pending: boolean }
  | { kind: "gift"; at: string; row: Gift; pending: boolean }
  | { kind: "note"; at: string; row: Note; pending: boolean };

export interface CustomerDetail {
  customer: Customer | null;
  contacts: Awaited<ReturnType<typeof contactsOf>>;
  timeline: TimelineEntry[];
  nextPlan: PlannedRevisit | null;
  openConflicts: number;
  pendingIds: Set<string>;
}

function contactsOf(customerId: string) {
  return db().contacts.where("customer_id").equals(customerId).filter((c) => !c.deleted).toArray();
}

export async function customerDetail(id: string): Promise<CustomerDetail> {
  const d = db();
  const [customer, contacts, visits, gifts, notes, plans, conflicts, pending] = await Promise.all([
    d.customers.get(id),
    contactsOf(id),
    d.visits.where("customer_id").equals(id).filter((r) => !r.deleted).toArray(),
    d.gifts.where("customer_id").equals(id).filter((r) => !r.deleted).toArray(),
    d.notes.where("customer_id").equals(id).filter((r) => !r.deleted).toArray(),
    d.planned_revisits.where("customer_id").equals(id).filter((r) => !r.deleted && r.status === "planned").toArray(),
    d.conflicts.where("customer_id").equals(id).filter((r) => !r.deleted && r.status === "open").count(),
    d.outbox.where("status").anyOf("pending", "sent").toArray(),
  ]);
  const pendingIds = new Set(pending.map((e) => e.row_id));
  const timeline: TimelineEntry[] = [
    ...visits.map((row) => ({ kind: "visit" as const, at: row.started_at, row, pending: pendingIds.has(row.id) })),
    ...gifts.map((row) => ({ kind: "gift" as const, at: row.given_at, row, pending: pendingIds.has(row.id) })),
    ...notes.map((row) => ({ kind: "note" as const, at: row.created_at, row, pending: pendingIds.has(row.id) })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  plans.sort((a, b) => a.due_date.localeCompare(b.due_date));
  return {
    customer: customer && !customer.deleted ? customer : null,
    contacts,
    timeline,
    nextPlan: plans[0] ?? null,
    openConflicts: conflicts,
    pendingIds,
  };
}

/** Value of the gifts a customer received in a calendar year (the cap counts value, R-GIFT). */
export async function giftValueInYear(customerId: string, year: number): Promise<number> {
  const gifts = await db()
    .gifts.where("customer_id")
    .equals(customerId)
    .filter((g) => !g.deleted && g.given_at.startsWith(String(year)))
    .toArray();
  return gifts.reduce((sum, g) => sum + g.quantity * Number(g.unit_value), 0);
}

export async function activeGiftItems(): Promise<GiftItem[]> {
  const rows = await db().gift_items.filter((g) => !g.deleted && g.active).toArray();
  return rows.sort((a, b) => a.name_en.localeCompare(b.name_en));
}

export interface CapCheck {
  over: boolean;
  total: number;
  cap: number;
}

/** Would these lines take the customer's yearly gift value over an item's cap? */
export function checkCap(
  alreadyThisYear: number,
  lines: Array<{ item: GiftItem; quantity: number }>,
): CapCheck {
  let total = alreadyThisYear;
  let result: CapCheck = { over: false, total, cap: Infinity };
  for (const { item, quantity } of lines) {
    total += quantity * Number(item.unit_value);
    const cap = Number(item.yearly_cap);
    if (total > cap && !result.over) result = { over: true, total, cap };
  }
  if (result.over) result.total = total;
  else result = { over: false, total, cap: Math.min(...lines.map((l) => Number(l.item.yearly_cap)), Infinity) };
  return result;
}

/**
 * The manager's figures, computed from the local replica (so the dashboard reads offline):
 * pure functions of rows and `today`, unit-tested in tests/manager.test.ts. The per-rep
 * figures follow the server's coverage report (server/reports/coverage.py) exactly: local
 * days in the manager's time zone, visits since Monday and since the 1st, satisfaction over
 * the last 90 × 24 hours, complaint age in whole elapsed days.
 */
import type { CadenceRule, Customer, Gift, Note, PlannedRevisit, UserRow, Visit } from "../db";
import { addDays, dayIn, daysBetween, weekStart } from "../dates";
import { ruleFor } from "../planning";

export interface Data {
  customers: Customer[];
  visits: Visit[];
  gifts: Gift[];
  notes: Note[];
  plans: PlannedRevisit[];
  rules: CadenceRule[];
  users: UserRow[];
}

export interface RepStats {
  rep: UserRow;
  owned: number;
  coverage: Record<"A" | "B" | "C", { covered: number; total: number }>;
  overdue: number;
  forgotten: number;
  visitsWeek: number;
  visitsMonth: number;
  giftSpend: number;
  overCap: number;
  avgSatisfaction: number | null;
  openComplaints: number;
  oldestComplaintDays: number | null;
}

const day = (iso: string) => iso.slice(0, 10);

/** Last visit day per customer (live visits only), as local days of `localDay`. */
export function lastVisitDays(visits: Visit[], localDay: (iso: string) => string = day): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of visits) {
    if (v.deleted) continue;
    const d = localDay(v.started_at);
    if ((out.get(v.customer_id) ?? "") < d) out.set(v.customer_id, d);
  }
  return out;
}

function live<T extends { deleted: boolean }>(rows: T[]): T[] {
  return rows.filter((r) => !r.deleted);
}

export function openPlansByCustomer(plans: PlannedRevisit[]): Map<string, PlannedRevisit[]> {
  const out = new Map<string, PlannedRevisit[]>();
  for (const p of plans) {
    if (p.deleted || p.status !== "planned") continue;
    out.set(p.customer_id, [...(out.get(p.customer_id) ?? []), p]);
  }
  return out;
}

/** Visited within its cadence at `asOf`: its last visit on or before asOf is recent enough. */
export function covered(c: Customer, rules: CadenceRule[], lastVisit: string | undefined, asOf: string): boolean | null {
  const rule = ruleFor(rules, c);
  if (!rule) return null;
  return !!lastVisit && lastVisit <= asOf && daysBetween(lastVisit, asOf) <= rule.interval_days;
}

const DAY_MS = 86_400_000;
export const SATISFACTION_DAYS = 90;

/**
 * Per rep of the replica. `today` is the manager's local day, `now` the instant it is, and
 * `timeZone` the zone both are in (undefined: UTC).
 */
export function repStats(d: Data, today: string, now: Date = new Date(), timeZone?: string): RepStats[] {
  const localDay = dayIn(timeZone);
  const customers = live(d.customers).filter((c) => !c.archived);
  const visits = live(d.visits);
  const last = lastVisitDays(visits, localDay);
  const open = openPlansByCustomer(d.plans);
  const yearStart = `${today.slice(0, 4)}-01-01`;
  const monday = weekStart(today);
  const monthStart = `${today.slice(0, 8)}01`;
  const satisfactionSince = now.getTime() - SATISFACTION_DAYS * DAY_MS;
  return d.users
    .filter((u) => !u.deleted && u.role === "rep")
    .map((rep) => {
      const mine = customers.filter((c) => c.owner_id === rep.id);
      const ids = new Set(mine.map((c) => c.id));
      const coverage = { A: { covered: 0, total: 0 }, B: { covered: 0, total: 0 }, C: { covered: 0, total: 0 } };
      let overdue = 0;
      let forgotten = 0;
      for (const c of mine) {
        const cov = covered(c, d.rules, last.get(c.id), today);
        if (cov !== null) {
          coverage[c.tier].total += 1;
          if (cov) coverage[c.tier].covered += 1;
        }
        const plans = open.get(c.id) ?? [];
        if (plans.length === 0) forgotten += 1;
        else if (plans.some((p) => p.due_date < today)) overdue += 1;
      }
      const repVisits = visits.filter((v) => v.rep_id === rep.id);
      const visitDays = repVisits.map((v) => localDay(v.started_at));
      const recent = repVisits.filter((v) => Date.parse(v.started_at) >= satisfactionSince && v.satisfaction != null);
      const gifts = live(d.gifts).filter((g) => g.rep_id === rep.id && localDay(g.given_at) >= yearStart);
      const complaints = live(d.notes).filter((n) => n.kind === "complaint" && n.status === "open" && ids.has(n.customer_id));
      const ages = complaints.map((n) => Math.max(0, Math.floor((now.getTime() - Date.parse(n.created_at)) / DAY_MS)));
      return {
        rep,
        owned: mine.length,
        coverage,
        overdue,
        forgotten,
        visitsWeek: visitDays.filter((v) => v >= monday).length,
        visitsMonth: visitDays.filter((v) => v >= monthStart).length,
        giftSpend: gifts.reduce((s, g) => s + g.quantity * Number(g.unit_value), 0),
        overCap: gifts.filter((g) => g.over_cap).length,
        avgSatisfaction: recent.length ? recent.reduce((s, v) => s + (v.satisfaction ?? 0), 0) / recent.length : null,
        openComplaints: complaints.length,
        oldestComplaintDays: ages.length ? Math.max(...ages) : null,
      };
    });
}

/** Share of customers visited within cadence, per tier, at the end of each of the last `weeks` weeks. */
export function coverageByWeek(d: Data, today: string, weeks = 12): Array<{ week: string; A: number | null; B: number | null; C: number | null }> {
  const customers = live(d.customers).filter((c) => !c.archived);
  const byCustomer = new Map<string, string[]>();
  for (const v of live(d.visits)) byCustomer.set(v.customer_id, [...(byCustomer.get(v.customer_id) ?? []), day(v.started_at)]);
  for (const list of byCustomer.values()) list.sort();
  const out = [];
  for (let k = weeks - 1; k >= 0; k--) {
    const asOf = addDays(today, -7 * k);
    const tally = { A: [0, 0], B: [0, 0], C: [0, 0] } as Record<"A" | "B" | "C", [number, number]>;
    for (const c of customers) {
      const before = (byCustomer.get(c.id) ?? []).filter((x) => x <= asOf);
      const cov = covered(c, d.rules, before[before.length - 1], asOf);
      if (cov === null || day(c.created_at) > asOf) continue;
      tally[c.tier][1] += 1;
      if (cov) tally[c.tier][0] += 1;
    }
    const share = (t: [number, number]) => (t[1] ? t[0] / t[1] : null);
    out.push({ week: asOf, A: share(tally.A), B: share(tally.B), C: share(tally.C) });
  }
  return out;
}

export interface ParetoRow {
  customer: Customer;
  value: number;
  cumulativeShare: number;
  suggestedTier: "A" | "B" | "C";
}

/** Order value per customer over the last year, biggest first; top 20% → A, next 30% → B. */
export function pareto(d: Data, today: string): { rows: ParetoRow[]; topShare: number } {
  const since = addDays(today, -365);
  const totals = new Map<string, number>();
  for (const v of live(d.visits)) {
    if (day(v.started_at) <= since) continue;
    totals.set(v.customer_id, (totals.get(v.customer_id) ?? 0) + Number(v.order_value || 0));
  }
  const customers = live(d.customers).filter((c) => !c.archived);
  const rows = customers
    .map((c) => ({ customer: c, value: totals.get(c.id) ?? 0 }))
    .sort((a, b) => b.value - a.value || a.customer.name.localeCompare(b.customer.name));
  const total = rows.reduce((s, r) => s + r.value, 0);
  let running = 0;
  const n = rows.length;
  const topCount = Math.max(1, Math.round(n * 0.2));
  const midCount = Math.max(topCount, Math.round(n * 0.5));
  const out = rows.map((r, i) => {
    running += r.value;
    const suggestedTier: "A" | "B" | "C" = r.value > 0 && i < topCount ? "A" : r.value > 0 && i < midCount ? "B" : "C";
    return { ...r, cumulativeShare: total ? running / total : 0, suggestedTier };
  });
  const top = out.slice(0, topCount);
  return { rows: out, topShare: total ? top.reduce((s, r) => s + r.value, 0) / total : 0 };
}

export interface RiskRow {
  customer: Customer;
  reason: "no_visit" | "orders_falling";
  daysSinceVisit: number | null;
}

/** At risk: no visit for more than 1.5 × the cadence, or order value of the last 90 days below 70% of the 90 before. */
export function atRisk(d: Data, today: string): RiskRow[] {
  const last = lastVisitDays(live(d.visits));
  const recent = new Map<string, number>();
  const before = new Map<string, number>();
  const q1 = addDays(today, -90);
  const q2 = addDays(today, -180);
  for (const v of live(d.visits)) {
    const dd = day(v.started_at);
    const val = Number(v.order_value || 0);
    if (dd > q1) recent.set(v.customer_id, (recent.get(v.customer_id) ?? 0) + val);
    else if (dd > q2) before.set(v.customer_id, (before.get(v.customer_id) ?? 0) + val);
  }
  const out: RiskRow[] = [];
  for (const c of live(d.customers).filter((x) => !x.archived)) {
    const rule = ruleFor(d.rules, c);
    const lv = last.get(c.id);
    const since = lv ? daysBetween(lv, today) : null;
    if (rule && (since === null ? daysBetween(day(c.created_at), today) > 1.5 * rule.interval_days : since > 1.5 * rule.interval_days)) {
      out.push({ customer: c, reason: "no_visit", daysSinceVisit: since });
    } else if ((before.get(c.id) ?? 0) > 0 && (recent.get(c.id) ?? 0) < 0.7 * (before.get(c.id) ?? 0)) {
      out.push({ customer: c, reason: "orders_falling", daysSinceVisit: since });
    }
  }
  return out.sort((a, b) => (b.daysSinceVisit ?? 9999) - (a.daysSinceVisit ?? 9999));
}

/** Customers due within `days` under a set of rules (the admin's preview before saving). */
export function dueWithin(d: Data, rules: CadenceRule[], today: string, days = 7): number {
  const last = lastVisitDays(live(d.visits));
  const until = addDays(today, days);
  let n = 0;
  for (const c of live(d.customers).filter((x) => !x.archived)) {
    const rule = ruleFor(rules, c);
    if (!rule) continue;
    const lv = last.get(c.id);
    const due = lv ? addDays(lv, rule.interval_days) : day(c.created_at);
    if (due <= until) n += 1;
  }
  return n;
}

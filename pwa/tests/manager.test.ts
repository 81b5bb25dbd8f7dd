import { describe, expect, it } from "vitest";
import type { CadenceRule, Customer, PlannedRevisit, UserRow, Visit } from "../src/db";
import { atRisk, coverageByWeek, dueWithin, pareto, repStats, type Data } from "../src/manager/stats";

const base = { clocks: {}, deleted: false, v: 1 };
const rep = { ...base, id: "r1", username: "r1", display_name: "Rep", role: "rep", region_id: "g", locale: "en", time_zone: "UTC", active: true } as UserRow;
const rule = (tier: "A" | "B" | "C", interval_days: number) =>
  ({ ...base, id: `rule-${tier}`, tier, region_id: null, stage: null, interval_days, reminder_lead_days: 1 }) as CadenceRule;
const cust = (id: string, tier: "A" | "B" | "C") =>
  ({ ...base, id, name: id, tier, stage: "active", owner_id: "r1", region_id: "g", archived: false, created_at: "2026-01-01T00:00:00Z" }) as Customer;
const visit = (id: string, customer_id: string, day: string, order = "0.00", satisfaction: number | null = null) =>
  ({ ...base, id, customer_id, rep_id: "r1", started_at: `${day}T09:00:00Z`, order_value: order, satisfaction }) as Visit;
const plan = (id: string, customer_id: string, due_date: string) =>
  ({ ...base, id, customer_id, due_date, status: "planned", source: "cadence" }) as PlannedRevisit;

const data: Data = {
  customers: [cust("a1", "A"), cust("b1", "B"), cust("c1", "C")],
  visits: [
    visit("v1", "a1", "2026-11-20", "900.00", 5),
    visit("v2", "b1", "2026-08-01", "100.00", 3),
    visit("v3", "b1", "2026-05-01", "1000.00"),
  ],
  gifts: [],
  notes: [],
  plans: [plan("p1", "a1", "2026-12-20"), plan("p2", "b1", "2026-11-01")],
  rules: [rule("A", 30), rule("B", 60), rule("C", 90)],
  users: [rep],
};

describe("manager figures from the replica", () => {
  it("counts coverage, overdue and forgotten customers per rep", () => {
    const [s] = repStats(data, "2026-11-25", new Date("2026-11-25T10:00:00Z"));
    expect(s!.owned).toBe(3);
    expect(s!.coverage.A).toEqual({ covered: 1, total: 1 });
    expect(s!.coverage.B).toEqual({ covered: 0, total: 1 });
    expect(s!.overdue).toBe(1); // b1's plan was due 2026-11-01
    expect(s!.forgotten).toBe(1); // c1 has no plan
    expect([s!.visitsWeek, s!.visitsMonth]).toEqual([0, 1]); // Friday 20th is last week
    expect(s!.avgSatisfaction).toBe(5);
  });

  it("counts visits since Monday and since the 1st in the manager's time zone, as the report does", () => {
    // Wednesday 2026-11-25, 10:00 in Shanghai (02:00 UTC)
    const now = new Date("2026-11-25T02:00:00Z");
    const at = (id: string, iso: string, satisfaction: number | null = null) =>
      ({ ...visit(id, "a1", "2026-11-01", "0.00", satisfaction), started_at: iso }) as Visit;
    const week: Data = {
      ...data,
      visits: [
        at("sun-late", "2026-11-22T15:59:00Z"), // Sunday 23:59 local: last week
        at("mon-early", "2026-11-22T16:01:00Z", 4), // Monday 00:01 local: this week
        at("oct-31", "2026-10-31T15:30:00Z"), // 31 Oct 23:30 local: last month
        at("nov-1", "2026-10-31T16:30:00Z"), // 1 Nov 00:30 local: this month
        at("old", "2026-08-26T01:00:00Z", 1), // 91 days ago: outside the satisfaction window
      ],
      notes: [
        { ...base, id: "n1", customer_id: "a1", kind: "complaint", status: "open", body: "late", created_at: "2026-11-23T03:00:00Z" } as Data["notes"][number],
      ],
    };
    const [s] = repStats(week, "2026-11-25", now, "Asia/Shanghai");
    expect(s!.visitsWeek).toBe(1);
    expect(s!.visitsMonth).toBe(3);
    expect(s!.avgSatisfaction).toBe(4);
    expect(s!.oldestComplaintDays).toBe(1); // 47 hours: one whole day
    const [utc] = repStats(week, "2026-11-25", now);
    expect([utc!.visitsWeek, utc!.visitsMonth]).toEqual([0, 2]); // in UTC both late visits fall on Sunday
  });

  it("charts coverage by week and ranks order value (Pareto)", () => {
    const weeks = coverageByWeek(data, "2026-11-25");
    expect(weeks).toHaveLength(12);
    expect(weeks[11]!.A).toBe(1);
    const p = pareto(data, "2026-11-25");
    expect(p.rows[0]!.customer.id).toBe("b1");
    expect(p.rows[0]!.suggestedTier).toBe("A");
    expect(p.topShare).toBeCloseTo(1100 / 2000);
  });

  it("flags customers not visited for 1.5 × their cadence", () => {
    const risks = atRisk(data, "2026-11-25");
    expect(risks.map((r) => [r.customer.id, r.reason])).toEqual([
      ["c1", "no_visit"],
      ["b1", "no_visit"],
    ]);
  });

  it("previews how many customers a rule change makes due", () => {
    expect(dueWithin(data, data.rules, "2026-11-25")).toBe(2);
    expect(dueWithin(data, [rule("A", 5), rule("B", 60), rule("C", 90)], "2026-11-25")).toBe(3);
  });
});

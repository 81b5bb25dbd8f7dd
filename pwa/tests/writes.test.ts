import { describe, expect, it } from "vitest";
import { RevisitDB, setMeta, useDatabase } from "../src/db";
import { planIdAfterVisit } from "../src/planning";
import { unsentEntries } from "../src/sync/outbox";
import { logVisit } from "../src/writes";

async function fresh() {
  const database = new RevisitDB(`writes-${Math.random()}`);
  useDatabase(database);
  await setMeta("user", { id: "u1", username: "r", display_name: "R", role: "rep", region_id: null, locale: "en", time_zone: "UTC" }, database);
  const customer = { id: "0190a6f0-0000-7000-8000-000000000001", name: "Acme", tier: "A", stage: "active", owner_id: "u1", region_id: null, archived: false, clocks: {}, deleted: false, v: 1 };
  await database.customers.put(customer as never);
  await database.cadence_rules.put({ id: "r1", tier: "A", interval_days: 14, reminder_lead_days: 1, region_id: null, stage: null, clocks: {}, deleted: false, v: 1 } as never);
  await database.planned_revisits.put({
    id: "old-plan", customer_id: customer.id, due_date: "2026-03-01", source: "cadence", status: "planned", clocks: { status: "000000000001-0000-server" }, deleted: false, v: 1,
  } as never);
  return { database, customer };
}

function visit(customer: unknown, next_visit: string | null) {
  return {
    customer, planned_for: null, started_at: "2026-03-03T04:00:00.000Z", ended_at: null, latitude: null, longitude: null,
    accuracy: null, purpose: "follow_up", outcome: "", satisfaction: null, order_value: null, currency: "CNY", notes: "",
    gifts: [], next_visit,
  } as never;
}

describe("logging a visit (docs/scheduling.md, 'What a device does when it logs a visit')", () => {
  it("sends the rep's date as the plan named after the visit, before the visit, and leaves one open plan", async () => {
    const { database, customer } = await fresh();
    const visitId = await logVisit(visit(customer, "2026-03-25"));
    const entries = await unsentEntries(database);
    expect(entries.map((e) => [e.kind, e.table])).toEqual([
      ["create", "planned_revisits"],
      ["put", "planned_revisits"],
      ["create", "visits"],
    ]);
    const planId = await planIdAfterVisit(customer.id, visitId);
    expect(entries[0]!.row_id).toBe(planId);
    expect(entries[0]!.data).toMatchObject({ due_date: "2026-03-25", source: "manual", status: "planned" });
    expect(entries[1]!.row_id).toBe("old-plan");
    expect(entries[1]!.data).toEqual({ status: "done" });
    const open = (await database.planned_revisits.toArray()).filter((p) => p.status === "planned");
    expect(open.map((p) => p.id)).toEqual([planId]);
  });

  it("without a chosen date the plan follows the cadence", async () => {
    const { database, customer } = await fresh();
    const visitId = await logVisit(visit(customer, null));
    const plan = await database.planned_revisits.get(await planIdAfterVisit(customer.id, visitId));
    expect(plan).toMatchObject({ due_date: "2026-03-17", source: "cadence", status: "planned" });
  });
});

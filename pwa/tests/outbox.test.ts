import { describe, expect, it } from "vitest";
import { RevisitDB, setMeta, useDatabase } from "../src/db";
import { en } from "../src/i18n/en";
import { formatDay, t } from "../src/i18n";
import { planIdAfterVisit } from "../src/planning";
import { parseHlc } from "../src/sync/hlc";
import { createRows, outboxCounts, putFields, renumberUnsent, restampUnsent, unsentEntries } from "../src/sync/outbox";
import { notificationText } from "../src/sw/notify";
import { toWire } from "../src/sync/client";

async function fresh() {
  const database = new RevisitDB(`outbox-${Math.random()}`);
  useDatabase(database);
  await setMeta("user", { id: "u1", username: "r", display_name: "R", role: "rep", region_id: null, locale: "en", time_zone: "UTC" }, database);
  return database;
}

describe("outbox", () => {
  it("numbers mutations 1, 2, 3 and stamps increasing clocks (R-PUSH-2, R-HLC-3)", async () => {
    const database = await fresh();
    await createRows([
      { table: "notes", row: { id: "n1", customer_id: "c1", kind: "note", body: "a" } },
      { table: "notes", row: { id: "n2", customer_id: "c1", kind: "note", body: "b" } },
    ]);
    await putFields("notes", "n1", { status: "open" });
    const entries = await unsentEntries(database);
    expect(entries.map((e) => e.n)).toEqual([1, 2, 3]);
    const clocks = entries.map((e) => e.clock);
    expect([...clocks].sort()).toEqual(clocks);
    expect(new Set(clocks).size).toBe(3);
    expect(await outboxCounts(database)).toEqual({ unsent: 3, rejected: 0 });
  });

  it("puts carry the field's base clock and the previous value; unchanged fields are not sent", async () => {
    const database = await fresh();
    await database.customers.put({
      id: "c1", name: "Acme", phone: "1", clocks: { name: "000000000001-0000-server", phone: "000000000002-0000-server" }, deleted: false, v: 7,
    } as never);
    const e = (await putFields("customers", "c1", { name: "Acme", phone: "2" }))!;
    expect(e.data).toEqual({ phone: "2" });
    expect(e.base).toEqual({ phone: "000000000002-0000-server" });
    expect(e.prev).toEqual({ phone: "1" });
    const wire = toWire(e);
    expect(wire).toMatchObject({ kind: "put", n: 1, table: "customers", id: "c1", fields: { phone: { value: "2", base: "000000000002-0000-server" } } });
    const row = (await database.customers.get("c1"))!;
    expect(row.phone).toBe("2");
    expect(row.clocks.phone).toBe(e.clock);
    expect(await putFields("customers", "c1", { phone: "2" })).toBeNull();
  });

  it("re-stamps unsent mutations in order and follows bases that pointed at old stamps (R-HLC-9)", async () => {
    const database = await fresh();
    const future = Date.now() + 3 * 3600_000;
    await setMeta("last_clock", `${future.toString(16).padStart(12, "0")}-0000-dev`, database);
    await database.customers.put({ id: "c1", name: "A", clocks: {}, deleted: false, v: 3 } as never);
    await putFields("customers", "c1", { name: "B" });
    await putFields("customers", "c1", { name: "C" }); // base = the first put's (future) clock
    const [a, b] = await unsentEntries(database);
    expect(b!.base.name).toBe(a!.clock);
    const server = `${Date.now().toString(16).padStart(12, "0")}-0003-server`;
    await restampUnsent(server, 0, database);
    const [a2, b2] = await unsentEntries(database);
    expect([a2!.n, b2!.n]).toEqual([1, 2]);
    expect(a2!.clock < b2!.clock).toBe(true);
    expect(a2!.clock > server).toBe(true);
    expect(parseHlc(b2!.clock).physical).toBeLessThan(future);
    expect(b2!.base.name).toBe(a2!.clock);
    expect((await database.customers.get("c1"))!.clocks.name).toBe(b2!.clock);
  });

  it("renumbers unsent mutations from the server's expected number (R-PUSH-8)", async () => {
    const database = await fresh();
    await createRows([{ table: "notes", row: { id: "n1", customer_id: "c1", kind: "note", body: "a" } }]);
    await createRows([{ table: "notes", row: { id: "n2", customer_id: "c1", kind: "note", body: "b" } }]);
    await renumberUnsent(5, database);
    expect((await unsentEntries(database)).map((e) => [e.n, e.row_id])).toEqual([[5, "n1"], [6, "n2"]]);
    await createRows([{ table: "notes", row: { id: "n3", customer_id: "c1", kind: "note", body: "c" } }]);
    expect((await unsentEntries(database)).map((e) => e.n)).toEqual([5, 6, 7]);
  });
});

describe("planning and notifications", () => {
  it("names the plan after a visit like the server (uuid5)", async () => {
    expect(await planIdAfterVisit("abc", "def")).toBe("f9297222-affb-5a1c-b93f-a03c3e3eae77");
  });

  it("renders push reminders in the stored language", () => {
    const p = { kind: "overdue", customer_id: "c1", customer_name: "华美超市", due_date: "2026-11-20", tier: "A" };
    const zh = notificationText(p, "zh-CN", t, formatDay);
    expect(zh.title).toBe("已逾期：华美超市");
    expect(zh.body).toContain("A 级");
    const enText = notificationText({ ...p, kind: "due" }, "en", t, formatDay);
    expect(enText.title).toBe(en["push.due.title"].replace("{name}", "华美超市"));
    expect(notificationText({ kind: "digest", count: 4 }, "en", t, formatDay).body).toBe("4 customers need a visit");
  });
});

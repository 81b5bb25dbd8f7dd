import { describe, expect, it } from "vitest";
import { LoginRequired, NetworkError } from "../src/api";
import { getMeta, setMeta } from "../src/db";
import { parseHlc } from "../src/sync/hlc";
import { nextPageLimit } from "../src/sync/client";
import { createRows, discardRejected, putFields } from "../src/sync/outbox";
import { backoffDelay } from "../src/sync/scheduler";
import { activity } from "../src/sync/status";
import { restoreConflict } from "../src/writes";
import { FakeServer } from "./fake-server";
import { customer, device } from "./helpers";

async function visit(id: string, customerId = "c1") {
  await createRows([{ table: "visits", row: { id, customer_id: customerId, started_at: "2026-11-25T06:00:00Z", purpose: "routine" } }]);
}

describe("sync client against a fake transport", () => {
  it("pushes offline writes once, pulls them back, and checksums agree", async () => {
    const server = new FakeServer();
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    const { database, client } = await device(server);
    await client.sync(); // initial pull
    expect(await database.customers.get("c1")).toMatchObject({ name: "Acme" });

    await visit("v1");
    await visit("v2");
    const outbox = await database.outbox.toArray();
    expect(outbox.map((e) => e.n)).toEqual([1, 2]); // contiguous per device (R-PUSH-2)

    const report = await client.sync();
    expect(report.pushed).toBe(2);
    expect(report.checksumMismatch).toEqual([]);
    expect(server.rowsOf("visits")).toHaveLength(2);
    expect(await database.outbox.count()).toBe(0);
    expect((await database.visits.get("v1"))!.v).toBeGreaterThan(0);
    expect(await getMeta("last_sync", null, database)).not.toBeNull();
  });

  it("replays after a lost response without applying twice (R-PUSH-5)", async () => {
    const server = new FakeServer();
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    const { database, client } = await device(server);
    await visit("v1");
    server.loseNextResponse = 1;
    await expect(client.sync()).rejects.toBeInstanceOf(NetworkError);
    expect(server.rowsOf("visits")).toHaveLength(1); // the server did apply it
    expect((await database.outbox.toArray())[0]).toMatchObject({ n: 1, status: "sent" });

    await visit("v2");
    await client.sync();
    expect(server.rowsOf("visits")).toHaveLength(2);
    expect(server.applied).toBe(2); // n=1 was replayed, not re-applied
    const replay = server.requests.filter((r) => r.path === "/api/sync/push").at(-1)!.body as { mutations: Array<{ n: number }> };
    expect(replay.mutations.map((m) => m.n)).toEqual([1, 2]);
    expect(await database.outbox.count()).toBe(0);
  });

  it("retries a request that never reached the server", async () => {
    const server = new FakeServer();
    const { database, client } = await device(server);
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    await visit("v1");
    server.dropNextRequest = 1;
    await expect(client.sync()).rejects.toBeInstanceOf(NetworkError);
    expect(server.applied).toBe(0);
    await client.sync();
    expect(server.rowsOf("visits")).toHaveLength(1);
    expect(await database.outbox.count()).toBe(0);
  });

  it("adopts the server offset on clock_skew and re-stamps unsent writes in order (R-HLC-9)", async () => {
    const server = new FakeServer();
    const twoHours = 2 * 3600_000;
    server.now = () => Date.now() - twoHours; // the device's clock is two hours ahead
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    const { database, client } = await device(server, { skewMs: twoHours });
    await visit("v1");
    await visit("v2");
    await visit("v3");
    const before = (await database.outbox.toArray()).sort((a, b) => a.n - b.n);
    expect(parseHlc(before[0]!.clock).physical).toBeGreaterThan(server.now() + 60_000);

    await client.sync();
    const pushes = server.requests.filter((r) => r.path === "/api/sync/push");
    expect(pushes.length).toBe(2); // refused once, then accepted
    const sent = (pushes[1]!.body as { mutations: Array<{ n: number; hlc: string; id: string }> }).mutations;
    expect(sent.map((m) => m.n)).toEqual([1, 2, 3]);
    expect(sent.map((m) => m.id)).toEqual(["v1", "v2", "v3"]);
    const clocks = sent.map((m) => m.hlc);
    expect([...clocks].sort()).toEqual(clocks); // order kept
    for (const c of clocks) expect(parseHlc(c).physical).toBeLessThanOrEqual(server.now() + 60_000);
    expect(Math.abs((await getMeta("clock_offset", 0, database)) + twoHours)).toBeLessThan(5_000);
    expect(server.rowsOf("visits")).toHaveLength(3);
  });

  it("refreshes an expired access token and retries (401)", async () => {
    const server = new FakeServer();
    const { database, client } = await device(server);
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    server.access.clear(); // access token expired
    await visit("v1");
    await client.sync();
    expect(server.rowsOf("visits")).toHaveLength(1);
    expect((await getMeta("tokens", null, database))!.refresh_token).toBe("refresh-2");
  });

  it("asks for a new login when the refresh token is dead, keeping the outbox", async () => {
    const server = new FakeServer();
    const { database, client } = await device(server);
    server.access.clear();
    server.refresh.clear();
    await visit("v1");
    await expect(client.sync()).rejects.toBeInstanceOf(LoginRequired);
    expect(await getMeta("needs_login", false, database)).toBe(true);
    expect(await database.outbox.count()).toBe(1);
    expect(await database.visits.get("v1")).toBeDefined();
  });

  it("keeps the loser of a concurrent edit as a conflict and can restore it", async () => {
    const server = new FakeServer();
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    const { database, client } = await device(server);
    await client.sync();
    await putFields("customers", "c1", { phone: "111" }); // base = the clock we saw
    server.now = () => Date.now() + 10; // another device writes later, before we push
    server.serverWrite("customers", "c1", { phone: "222" }, "manager-device");
    const report = await client.sync();
    expect(report.pushed).toBe(1);
    const conflicts = await database.conflicts.toArray();
    expect(conflicts).toHaveLength(1);
    const c = conflicts[0]!;
    const winner = (await database.customers.get("c1"))!.phone;
    // our write happened-before nothing: the later clock wins; the other value is kept
    expect([JSON.parse(c.losing_value), JSON.parse(c.winning_value)].sort()).toEqual(["111", "222"]);
    expect(JSON.parse(c.winning_value)).toBe(winner);

    await restoreConflict(c);
    await client.sync();
    expect((await database.customers.get("c1"))!.phone).toBe(JSON.parse(c.losing_value));
    expect((await database.conflicts.get(c.id))!.status).toBe("restored");
    expect(server.rows.get("customers:c1")!.fields.phone).toBe(JSON.parse(c.losing_value));
  });

  it("shows refused mutations with the reason and reverts on discard", async () => {
    const server = new FakeServer();
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    const { database, client } = await device(server);
    await client.sync();
    await putFields("customers", "c1", { tier: "Z" });
    await visit("v1");
    const report = await client.sync();
    expect(report.rejected).toBe(1);
    const [rejected] = await database.outbox.where("status").equals("rejected").toArray();
    expect(rejected).toMatchObject({ n: 1, code: "validation", message: "tier must be A, B or C" });
    expect(server.rowsOf("visits")).toHaveLength(1); // the rejection consumed n=1, n=2 applied
    await discardRejected(rejected!.key!);
    expect((await database.customers.get("c1"))!.tier).toBe("B");
    expect(await database.outbox.count()).toBe(0);
  });

  it("re-fetches everything on resync_required, keeping the outbox (R-CUR-4)", async () => {
    const server = new FakeServer();
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    const { database, client } = await device(server);
    await client.sync();
    server.epoch = "e2"; // restored database
    server.dropNextRequest = 0;
    await setMeta("cursor", btoa(JSON.stringify({ p: 1, e: "e1" })), database);
    await database.transaction("rw", database.outbox, async () => {}); // no-op
    const pushFirst = server.rowsOf("visits").length;
    const report = await client.sync();
    expect(report.resynced).toBe(true);
    expect(report.checksumMismatch).toEqual([]);
    expect(await database.customers.get("c1")).toMatchObject({ name: "Acme" });
    expect(pushFirst).toBe(0);
  });

  it("renumbers unsent mutations after a sequence_gap (server restored, R-PUSH-8)", async () => {
    const server = new FakeServer();
    server.serverWrite("customers", "c1", customer("c1", "Acme"));
    const { database, client } = await device(server);
    await visit("v1");
    await client.sync();
    server.clients.clear(); // the server forgot this client
    await visit("v2");
    expect((await database.outbox.toArray())[0]!.n).toBe(2);
    await client.sync();
    expect(server.clients.values().next().value!.last_n).toBe(1);
    expect(server.rowsOf("visits")).toHaveLength(2);
    expect(await getMeta("next_n", 0, database)).toBe(2);
  });

  it("pulls in pages and resumes from the stored cursor after an interruption", async () => {
    const server = new FakeServer();
    for (let i = 0; i < 1200; i++) server.serverWrite("customers", `c${i}`, customer(`c${i}`, `Customer ${i}`));
    const { database, client } = await device(server, { pageLimit: 500 });
    server.failAfterPages = 1;
    await expect(client.sync()).rejects.toBeInstanceOf(NetworkError);
    expect(await database.customers.count()).toBe(500);
    server.failAfterPages = null;
    const report = await client.sync();
    expect(report.pulled).toBe(700); // the first page was not fetched again
    expect(await database.customers.count()).toBe(1200);
    expect(report.checksumMismatch).toEqual([]);
  });

  it("asks for the next page while it applies the last one, and counts what it received", async () => {
    const server = new FakeServer();
    for (let i = 0; i < 1200; i++) server.serverWrite("customers", `c${i}`, customer(`c${i}`, `Customer ${i}`));
    const { database, client } = await device(server, { pageLimit: 500 });
    const receivedWhenAsked: number[] = [];
    server.onPull = () => receivedWhenAsked.push(activity().received);
    const report = await client.sync();
    // the second page is asked for before the first is applied, the third before the second
    expect(receivedWhenAsked).toEqual([0, 0, 500]);
    expect(activity().received).toBe(1200);
    expect(report.pulled).toBe(1200);
    expect(await database.customers.count()).toBe(1200);
    expect(report.checksumMismatch).toEqual([]);
  });

  it("asks for larger pages while it waits for them longer than it takes to apply them", async () => {
    const server = new FakeServer();
    for (let i = 0; i < 4500; i++) server.serverWrite("customers", `c${i}`, customer(`c${i}`, `Customer ${i}`));
    const { database, client } = await device(server, { pageLimit: 250 });
    const limits: number[] = [];
    server.onPull = (body) => limits.push(body.limit);
    server.pullDelayMs = 1000; // pages of up to 500 rows apply in far less, even on a busy machine
    const report = await client.sync();
    // the first page's wait hid no apply, so it does not count; then each wait doubles the
    // size, up to the server's maximum (R-LIM-2)
    expect(limits).toEqual([250, 250, 500, 1000, 2000, 2000]);
    expect(report.pulled).toBe(4500);
    expect(await database.customers.count()).toBe(4500);
    expect(report.checksumMismatch).toEqual([]);
  }, 30_000);

  it("keeps the page size while pages arrive faster than they are applied", () => {
    expect(nextPageLimit(500, 10, 120)).toBe(500);
    expect(nextPageLimit(500, 300, 120)).toBe(1000);
    expect(nextPageLimit(1500, 300, 120)).toBe(2000);
    expect(nextPageLimit(2000, 300, 120)).toBe(2000);
  });

  it("repairs a replica whose checksum does not match (R-SUM-3)", async () => {
    const server = new FakeServer();
    for (let i = 0; i < 5; i++) server.serverWrite("customers", `c${i}`, customer(`c${i}`, `C${i}`));
    const { database, client } = await device(server);
    await client.sync();
    await database.customers.delete("c3"); // local corruption
    await visit("v9", "c1");
    const report = await client.sync();
    expect(report.checksumMismatch).toEqual(["rep:u1"]);
    expect(await database.customers.count()).toBe(5);
    expect(server.rowsOf("visits")).toHaveLength(1);
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffDelay(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffDelay(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(backoffDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

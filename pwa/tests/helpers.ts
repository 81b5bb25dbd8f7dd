import { Api } from "../src/api";
import { RevisitDB, setMeta, useDatabase } from "../src/db";
import { SyncClient } from "../src/sync/client";
import { FakeServer } from "./fake-server";

let dbCounter = 0;

/** A fresh device (its own IndexedDB) signed in as rep u1, talking to `server`. */
export async function device(server: FakeServer, opts: { skewMs?: number; pageLimit?: number } = {}) {
  const database = new RevisitDB(`test-${++dbCounter}-${Math.random()}`);
  useDatabase(database);
  await setMeta("tokens", { access_token: "access-1", refresh_token: "refresh-1" }, database);
  await setMeta(
    "user",
    { id: "u1", username: "rep1", display_name: "Rep One", role: "rep", region_id: "r1", locale: "en", time_zone: "UTC" },
    database,
  );
  // the device's own wall clock (Date.now() in the write path): `skewMs` ahead of the server's
  const now = () => (opts.skewMs ? Date.now() : server.now());
  const api = new Api({ fetch: server.fetch, database });
  const client = new SyncClient({ api, database, now, pageLimit: opts.pageLimit });
  return { database, api, client };
}

export function customer(_id: string, name: string) {
  return { name, tier: "B", stage: "active", phone: "+86 138 0000 0000", owner_id: "u1", region_id: "r1" };
}

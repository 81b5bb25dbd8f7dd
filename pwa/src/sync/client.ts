/**
 * The sync client: push the outbox, then pull pages until `more` is false, then verify
 * checksums. Each step cites docs/sync-protocol.md. The transport is the injected `Api`
 * (whose `fetch` tests replace), so this runs in the page, the service worker and vitest.
 */
import { Api, ApiError, LoginRequired, NetworkError } from "../api";
import { db, getMeta, setMeta, type OutboxEntry, type RevisitDB } from "../db";
import { todayIn } from "../dates";
import { applyPage, dropReplica, replicaChecksums } from "./apply";
import { clientId, nextClock, observeClock, renumberUnsent, restampUnsent, unsentEntries } from "./outbox";
import {
  MAX_PUSH,
  MAX_PAGE_LIMIT,
  PAGE_LIMIT,
  PROTOCOL,
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  type Stamped,
  type WireMutation,
} from "./protocol";
import { activity, setActivity } from "./status";

/**
 * The size of the next pull page (R-LIM-6): twice the last one, up to the server's
 * maximum, when the device waited longer for a page than it took to apply the one before.
 * Then the network's round trip, not the device, sets the pace, and larger pages need
 * fewer of them; on a fast link the default stays.
 */
export function nextPageLimit(limit: number, waitedMs: number, appliedMs: number): number {
  return waitedMs > appliedMs ? Math.min(limit * 2, MAX_PAGE_LIMIT) : limit;
}

export class UpdateRequired extends Error {
  constructor() {
    super("protocol_unsupported");
    this.name = "UpdateRequired";
  }
}

export interface SyncReport {
  pushed: number;
  rejected: number;
  pulled: number;
  resynced: boolean;
  checksumMismatch: string[];
}

/** One outbox entry as a wire mutation (R-PUSH §4.1; R-PUT-1 bases, null when never seen). */
export function toWire(e: OutboxEntry): WireMutation {
  if (e.kind === "create") return { kind: "create", n: e.n, hlc: e.clock, table: e.table, id: e.row_id, row: e.data };
  if (e.kind === "put") {
    const fields: Record<string, { value: unknown; base: string | null }> = {};
    for (const [k, value] of Object.entries(e.data)) fields[k] = { value, base: e.base[k] || null };
    return { kind: "put", n: e.n, hlc: e.clock, table: e.table, id: e.row_id, fields };
  }
  return { kind: "command", n: e.n, hlc: e.clock, name: e.table, args: e.data };
}

export interface SyncClientOptions {
  api: Api;
  database?: RevisitDB;
  now?: () => number;
  pageLimit?: number;
}

export class SyncClient {
  readonly api: Api;
  readonly database: RevisitDB;
  readonly now: () => number;
  readonly pageLimit: number;

  constructor(opts: SyncClientOptions) {
    this.api = opts.api;
    this.database = opts.database ?? db();
    this.now = opts.now ?? (() => Date.now());
    this.pageLimit = opts.pageLimit ?? PAGE_LIMIT;
  }

  /** R-HLC-6/7: every response (errors too) carries the server's time and clock. */
  private async observe(stamped: Partial<Stamped>, sentAt: number, receivedAt: number): Promise<void> {
    if (typeof stamped.server_time === "string") {
      const server = Date.parse(stamped.server_time);
      if (Number.isFinite(server)) {
        const offset = Math.round(server - (sentAt + receivedAt) / 2);
        await setMeta("clock_offset", offset, this.database);
      }
    }
    if (typeof stamped.clock === "string") await observeClock(stamped.clock, this.database, this.now());
  }

  private async post<T extends Stamped>(path: string, body: unknown): Promise<T> {
    const sentAt = this.now();
    try {
      const res = await this.api.call<T>(path, "POST", body);
      await this.observe(res, sentAt, this.now());
      return res;
    } catch (e) {
      if (e instanceof ApiError) await this.observe(e.body as Partial<Stamped>, sentAt, this.now());
      if (e instanceof ApiError && e.code === "protocol_unsupported") {
        await setMeta("needs_update", true, this.database); // R-VER-3: keep the outbox, update the app
        throw new UpdateRequired();
      }
      throw e;
    }
  }

  /** Push every unsent mutation, 500 at a time, in outbox order (R-PUSH-7). */
  async push(): Promise<{ pushed: number; rejected: number }> {
    let pushed = 0;
    let rejected = 0;
    let retries = 0;
    for (;;) {
      const batch = await unsentEntries(this.database, MAX_PUSH);
      if (batch.length === 0) return { pushed, rejected };
      // one request per write, not one awaited per entry (a day offline can queue hundreds)
      await this.database.outbox.bulkUpdate(batch.map((e) => ({ key: e.key!, changes: { status: "sent", attempts: e.attempts + 1 } })));
      const body: PushRequest = {
        protocol: PROTOCOL,
        client_id: await clientId(this.database),
        clock: await this.database.transaction("rw", this.database.meta, async () => await nextClock(this.database, this.now())),
        mutations: batch.map(toWire),
      };
      let res: PushResponse;
      try {
        res = await this.post<PushResponse>("/api/sync/push", body);
      } catch (e) {
        if (e instanceof ApiError && e.code === "clock_skew" && retries < 3) {
          // R-HLC-9: adopt the offset, re-stamp only unsent mutations (order kept), push again.
          retries += 1;
          const offset = await getMeta("clock_offset", 0, this.database);
          await restampUnsent(String(e.body.clock ?? ""), offset, this.database, this.now());
          continue;
        }
        if (e instanceof ApiError && e.code === "sequence_gap" && retries < 3) {
          // R-PUSH-8: the server lost our last numbers (restore): renumber from `expected`.
          retries += 1;
          await renumberUnsent(Number(e.body.expected), this.database);
          continue;
        }
        throw e;
      }
      retries = 0;
      const byN = new Map(batch.map((e) => [e.n, e]));
      const acknowledged: number[] = [];
      const refused: Array<{ key: number; changes: Partial<OutboxEntry> }> = [];
      for (const r of res.results) {
        const e = byN.get(r.n);
        if (!e) continue;
        if (r.status === "rejected") {
          // R-PUSH-7: refused items wait for the user (fix or discard), never dropped.
          refused.push({ key: e.key!, changes: { status: "rejected", code: r.code ?? "rejected", message: r.message ?? "" } });
        } else {
          acknowledged.push(e.key!);
        }
      }
      await this.database.transaction("rw", this.database.outbox, async () => {
        await this.database.outbox.bulkUpdate(refused);
        await this.database.outbox.bulkDelete(acknowledged);
      });
      pushed += acknowledged.length;
      rejected += refused.length;
      if (res.results.length === 0) return { pushed, rejected }; // nothing acknowledged: avoid a loop
    }
  }

  /**
   * Pull pages until `more` is false (R-PULL-1), storing the cursor per page (R-CUR-3).
   * The next page is asked for while this one is applied, so a phone's round trip to the
   * server is not added to every page. Its cursor is stored only once its page is applied:
   * a pull that stops resumes from the last page applied. While the device still waits for
   * pages, their size grows (`nextPageLimit`).
   */
  async pull(): Promise<{ pulled: number; response: PullResponse | null }> {
    let pulled = 0;
    let last: PullResponse | null = null;
    let limit = this.pageLimit;
    let appliedMs: number | null = null; // how long the last page took to apply
    const user = await getMeta("user", null, this.database);
    const request = async (cursor: string | null): Promise<PullRequest> => ({
      protocol: PROTOCOL,
      client_id: await clientId(this.database),
      clock: await this.database.transaction("rw", this.database.meta, async () => await nextClock(this.database, this.now())),
      cursor,
      limit,
      today: todayIn(user?.time_zone, new Date(this.now())),
    });
    let next = this.post<PullResponse>("/api/sync/pull", await request(await getMeta("cursor", null, this.database)));
    for (;;) {
      const asked = performance.now();
      const res = await next;
      if (appliedMs !== null) limit = nextPageLimit(limit, performance.now() - asked, appliedMs);
      if (res.more) {
        // stamped before the page's transaction starts, which would make the stamp wait for it
        next = this.post<PullResponse>("/api/sync/pull", await request(res.cursor));
        next.catch(() => undefined); // awaited at the top of the loop; if the apply fails, nobody does
      }
      const applying = performance.now();
      const maxClock = await applyPage(this.database, res.changes, res.cursor);
      appliedMs = performance.now() - applying;
      if (maxClock) await observeClock(maxClock, this.database, this.now()); // R-HLC-6
      pulled += res.changes.length;
      setActivity({ received: activity().received + res.changes.length });
      last = res;
      if (!res.more) return { pulled, response: last };
    }
  }

  /** One full round: push, pull, verify; resync and re-fetch as the protocol says. */
  async sync(): Promise<SyncReport> {
    const report: SyncReport = { pushed: 0, rejected: 0, pulled: 0, resynced: false, checksumMismatch: [] };
    try {
      setActivity({ running: true, phase: "push", received: 0 });
      const p = await this.push();
      report.pushed = p.pushed;
      report.rejected = p.rejected;
      setActivity({ phase: "pull" });
      let pulled: Awaited<ReturnType<SyncClient["pull"]>>;
      try {
        pulled = await this.pull();
      } catch (e) {
        if (!(e instanceof ApiError && e.code === "resync_required")) throw e;
        // R-CUR-4: drop the replica (not the outbox, not the rejected list), pull from null.
        setActivity({ phase: "resync" });
        report.resynced = true;
        await dropReplica(this.database);
        pulled = await this.pull();
      }
      report.pulled = pulled.pulled;
      setActivity({ phase: "verify" });
      const sums = pulled.response?.checksums;
      if (sums) {
        report.checksumMismatch = await this.verify(sums);
        if (report.checksumMismatch.length > 0) {
          // R-SUM-3: re-fetch the differing buckets, once per round.
          for (const b of report.checksumMismatch) await dropReplica(this.database, b); // also resets the cursor
          const again = await this.pull();
          report.pulled += again.pulled;
          if (again.response?.checksums) {
            const still = await this.verify(again.response.checksums);
            if (still.length) console.warn("checksum mismatch persists after re-fetch", still);
          }
        }
      }
      const stamp = new Date(this.now()).toISOString();
      await setMeta("last_sync", stamp, this.database);
      await setMeta("last_error", null, this.database);
      await setMeta("needs_update", false, this.database);
      return report;
    } catch (e) {
      await setMeta("last_attempt", new Date(this.now()).toISOString(), this.database);
      if (!(e instanceof NetworkError) && !(e instanceof LoginRequired))
        await setMeta("last_error", e instanceof ApiError ? `${e.code}: ${e.detail}` : String(e), this.database);
      throw e;
    } finally {
      setActivity({ running: false, phase: "idle" });
    }
  }

  async verify(expected: Record<string, { count: number; sum: string }>): Promise<string[]> {
    const mine = await replicaChecksums(this.database, Object.keys(expected));
    return Object.keys(expected).filter(
      (b) => mine[b]!.count !== expected[b]!.count || mine[b]!.sum !== expected[b]!.sum.toLowerCase(),
    );
  }
}

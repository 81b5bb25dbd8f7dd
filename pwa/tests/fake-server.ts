/**
 * An in-memory server speaking docs/sync-protocol.md v1 (enough of it to test the client):
 * idempotent push with last_n and stored results, clock skew, sequence gaps, per-field
 * LWW with conflict records, paginated pull with cursor and checksums, token refresh.
 * It also lets a test lose requests or responses.
 */
import { applyFieldWrite } from "../src/sync/merge";
import { formatHlc, parseHlc, receive, stamp, zero, type Hlc } from "../src/sync/hlc";
import { addMod64, rowHash } from "../src/sync/checksum";
import type { FetchFn } from "../src/api";

interface ServerRow {
  table: string;
  id: string;
  fields: Record<string, unknown>;
  clocks: Record<string, string>;
  seq: number;
  deleted: boolean;
  bucket: string;
}

type Result = { n: number; status: string; code?: string; message?: string; conflicts?: string[]; replayed?: boolean };

const GLOBAL_TABLES = new Set(["gift_items", "cadence_rules", "regions"]);

export class FakeServer {
  now: () => number = () => Date.now();
  rows = new Map<string, ServerRow>();
  counter = 0;
  epoch = "e1";
  clients = new Map<string, { last_n: number; results: Map<number, Result> }>();
  clock: Hlc = zero("server");
  access = new Set<string>(["access-1"]);
  refresh = new Set<string>(["refresh-1"]);
  private tokenN = 1;
  requests: Array<{ path: string; body: unknown }> = [];
  /** fail the next request before the server sees it */
  dropNextRequest = 0;
  /** apply the next push but lose its response */
  loseNextResponse = 0;
  failAfterPages: number | null = null;
  /** called with each pull request as it arrives */
  onPull: ((body: { cursor: string | null; limit: number }) => void) | null = null;
  /** how long each pull's answer takes to arrive (a slow network), in ms */
  pullDelayMs = 0;
  applied = 0;
  bucket = "rep:u1";

  key(table: string, id: string) {
    return `${table}:${id}`;
  }

  private tick(): string {
    this.clock = stamp(this.clock, this.now());
    return formatHlc(this.clock);
  }

  private stamped() {
    return { protocol: 1, server_time: new Date(this.now()).toISOString(), clock: this.tick() };
  }

  /** A write by somebody else (another device or the server itself). */
  serverWrite(table: string, id: string, fields: Record<string, unknown>, node = "other-device") {
    const clockNode: Hlc = { ...stamp(this.clock, this.now()), node };
    this.clock = stamp(this.clock, this.now());
    const clock = formatHlc(clockNode);
    const existing = this.rows.get(this.key(table, id));
    const row: ServerRow = existing ?? {
      table,
      id,
      fields: {},
      clocks: {},
      seq: 0,
      deleted: false,
      bucket: GLOBAL_TABLES.has(table) ? "global" : this.bucket,
    };
    for (const [k, v] of Object.entries(fields)) {
      row.fields[k] = v;
      row.clocks[k] = clock;
    }
    row.seq = ++this.counter;
    this.rows.set(this.key(table, id), row);
    return row;
  }

  private problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
    return new Response(JSON.stringify({ status, title: code, detail, code, ...this.stamped(), ...extra }), {
      status,
      headers: { "Content-Type": "application/problem+json" },
    });
  }

  private json(body: unknown) {
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  }

  fetch: FetchFn = async (input, init) => {
    const path = new URL(input, "http://x").pathname;
    const body = init?.body ? JSON.parse(String(init.body)) : null;
    this.requests.push({ path, body });
    if (this.dropNextRequest > 0) {
      this.dropNextRequest -= 1;
      throw new TypeError("Failed to fetch");
    }
    if (path === "/api/auth/refresh") {
      if (!this.refresh.has(body.refresh_token)) return this.problem(401, "refresh_invalid", "refresh token revoked");
      this.refresh.delete(body.refresh_token);
      this.tokenN += 1;
      const pair = { access_token: `access-${this.tokenN}`, refresh_token: `refresh-${this.tokenN}` };
      this.access.add(pair.access_token);
      this.refresh.add(pair.refresh_token);
      return this.json(pair);
    }
    const auth = new Headers(init?.headers).get("Authorization") ?? "";
    if (!this.access.has(auth.replace("Bearer ", ""))) return this.problem(401, "unauthenticated", "token expired");
    if (body?.protocol !== 1) return this.problem(400, "protocol_unsupported", "unsupported", { supported: [1] });
    for (const c of [body.clock, ...(body.mutations ?? []).map((m: { hlc: string }) => m.hlc)]) {
      if (parseHlc(c).physical > this.now() + 60_000) return this.problem(409, "clock_skew", "clock ahead", { max_ahead_ms: 60_000 });
    }
    this.clock = receive(this.clock, parseHlc(body.clock), this.now());
    if (path === "/api/sync/push") {
      const res = this.push(body);
      if (this.loseNextResponse > 0 && res.status === 200) {
        this.loseNextResponse -= 1;
        throw new TypeError("connection reset");
      }
      return res;
    }
    if (path === "/api/sync/pull") {
      const res = this.pull(body);
      if (this.pullDelayMs) await new Promise((ok) => setTimeout(ok, this.pullDelayMs));
      return res;
    }
    return this.problem(404, "not_found", path);
  };

  private push(body: { client_id: string; mutations: Array<Record<string, any>> }): Response {
    const client = this.clients.get(body.client_id) ?? { last_n: 0, results: new Map() };
    this.clients.set(body.client_id, client);
    const ms = body.mutations;
    if (ms.length && ms[0]!.n > client.last_n + 1)
      return this.problem(409, "sequence_gap", "gap", { expected: client.last_n + 1 });
    const results: Result[] = [];
    for (const m of ms) {
      if (m.n <= client.last_n) {
        results.push({ ...(client.results.get(m.n) ?? { n: m.n, status: "duplicate" }), replayed: true });
        continue;
      }
      const r = this.apply(m);
      client.last_n = m.n;
      client.results.set(m.n, r);
      results.push(r);
    }
    return this.json({ ...this.stamped(), last_n: client.last_n, results });
  }

  private apply(m: Record<string, any>): Result {
    this.applied += 1;
    this.clock = receive(this.clock, parseHlc(m.hlc), this.now());
    if (m.kind === "create") {
      if (this.rows.has(this.key(m.table, m.id))) return { n: m.n, status: "duplicate" };
      if (m.table === "notes" && m.row.body === "") return { n: m.n, status: "rejected", code: "validation", message: "body is empty" };
      const clocks: Record<string, string> = {};
      for (const k of Object.keys(m.row)) clocks[k] = m.hlc;
      this.rows.set(this.key(m.table, m.id), {
        table: m.table,
        id: m.id,
        fields: { ...m.row },
        clocks,
        seq: ++this.counter,
        deleted: false,
        bucket: GLOBAL_TABLES.has(m.table) ? "global" : this.bucket,
      });
      return { n: m.n, status: "applied" };
    }
    if (m.kind === "put") {
      const row = this.rows.get(this.key(m.table, m.id));
      if (!row) return { n: m.n, status: "rejected", code: "not_found", message: "no such row" };
      if ("tier" in m.fields && !["A", "B", "C"].includes(m.fields.tier.value))
        return { n: m.n, status: "rejected", code: "validation", message: "tier must be A, B or C" };
      const conflicts: string[] = [];
      for (const [f, w] of Object.entries(m.fields as Record<string, { value: unknown; base: string | null }>)) {
        const current = f in row.clocks ? ([row.fields[f], row.clocks[f]!] as [unknown, string]) : null;
        const out = applyFieldWrite(m.table, f, current, { value: w.value, base: w.base, hlc: m.hlc });
        row.fields[f] = out.value;
        row.clocks[f] = out.clock;
        if (out.conflict) {
          const id = `conflict-${this.counter + 1}`;
          const c = this.serverWrite("conflicts", id, {
            tbl: m.table,
            row_id: m.id,
            field: f,
            losing_value: JSON.stringify(out.conflict.losing_value),
            losing_clock: out.conflict.losing_clock,
            winning_value: JSON.stringify(out.value),
            winning_clock: out.clock,
            status: "open",
          }, "server");
          conflicts.push(c.id);
        }
      }
      row.seq = ++this.counter;
      return conflicts.length ? { n: m.n, status: "conflict", conflicts } : { n: m.n, status: "applied" };
    }
    return { n: m.n, status: "rejected", code: "unknown_command", message: String(m.name) };
  }

  pages = 0;

  private pull(body: { cursor: string | null; limit: number }): Response {
    let pos = 0;
    if (body.cursor) {
      const c = JSON.parse(atob(body.cursor)) as { p: number; e: string };
      if (c.e !== this.epoch || c.p > this.counter) return this.problem(409, "resync_required", "epoch", { reason: "epoch" });
      pos = c.p;
    }
    this.pages += 1;
    this.onPull?.(body);
    if (this.failAfterPages !== null && this.pages > this.failAfterPages) throw new TypeError("network down");
    const high = this.counter;
    const all = [...this.rows.values()].filter((r) => r.seq > pos && r.seq <= high).sort((a, b) => a.seq - b.seq);
    const page = all.slice(0, body.limit);
    const more = all.length > page.length;
    const reached = more ? page[page.length - 1]!.seq : high;
    const changes = page.map((r) => ({
      bucket: r.bucket,
      table: r.table,
      id: r.id,
      v: r.seq,
      op: r.deleted ? "delete" : "put",
      row: { ...r.fields, id: r.id, seq: r.seq, clocks: r.clocks, deleted: r.deleted },
    }));
    const out: Record<string, unknown> = {
      ...this.stamped(),
      cursor: btoa(JSON.stringify({ p: reached, e: this.epoch })),
      more,
      buckets: [this.bucket, "global"],
      changes,
    };
    if (!more) out.checksums = this.checksums();
    return this.json(out);
  }

  checksums(): Record<string, { count: number; sum: string }> {
    const out: Record<string, { count: number; sum: bigint }> = {
      [this.bucket]: { count: 0, sum: 0n },
      global: { count: 0, sum: 0n },
    };
    for (const r of this.rows.values()) {
      if (r.deleted) continue;
      const b = out[r.bucket]!;
      b.count += 1;
      b.sum = addMod64(b.sum, rowHash(r.table, r.id, r.seq));
    }
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, { count: v.count, sum: v.sum.toString(16).padStart(16, "0") }]),
    );
  }

  rowsOf(table: string): ServerRow[] {
    return [...this.rows.values()].filter((r) => r.table === table);
  }
}

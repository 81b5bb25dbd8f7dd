"""``make bench``: Revisit side by side with pouchdb-server, rxdb-server and the floor.

Starts every server it needs on 127.0.0.1, prints a table, and appends the results with
the exact command, date, git commit and machine facts to ``docs/benchmarks.md``.

    .venv/bin/python -m bench.run            # full sizes (tens of minutes)
    .venv/bin/python -m bench.run --quick    # small sizes, a smoke test of every driver
    .venv/bin/python -m bench.run --only peers,sqlite --no-append
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import signal
import statistics
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import zstandard

from bench import data, peers
from bench import revisit as rv
from bench.common import DOC, ROOT, Timing, machine_facts, measure, now_ms, scratch_dir
from bench.floor import read_floor, write_floor
from bench.load import LoadResult, run_load
from server.compression import ZSTD_LEVEL

MEMORY_BIG = 100_000  # the big incremental database of a peer on memory storage

ZSTD = zstandard.ZstdCompressor(level=ZSTD_LEVEL)  # the server's own setting


@dataclass
class Config:
    quick: bool
    initial: list[int]
    small_db: int
    big_db: int
    runs: int
    runs_big: int
    push_n: int
    push_batch: int
    changes: int
    load_reps: int
    load_records: int
    load_seconds: float
    think_s: float
    page: int
    peer_big: int
    load_processes: int = 2

    @classmethod
    def make(cls, quick: bool, args: argparse.Namespace) -> Config:
        if quick:
            cfg = cls(True, [2_000, 10_000], 2_000, 50_000, 3, 2, 1000, 100, 100, 200, 30, 5.0, 1.0, 500, 50_000)
        else:
            cfg = cls(False, [10_000, 100_000], 10_000, 1_000_000, 5, 2, 1000, 100, 100, 200, 100, 60.0, 1.0, 500,
                      1_000_000)
        if args.load_seconds is not None:
            cfg.load_seconds = args.load_seconds
        if args.think is not None:
            cfg.think_s = args.think
        if args.peer_big is not None:
            cfg.peer_big = args.peer_big
        if args.load_processes is not None:
            cfg.load_processes = args.load_processes
        return cfg


@dataclass
class Result:
    section: str
    system: str
    driver: str
    size: int
    timing: Timing
    unit: str = "records"

    @property
    def rate(self) -> float:
        return self.size / (self.timing.median / 1000.0) if self.timing.median else float("inf")


@dataclass
class Report:
    cfg: Config
    results: list[Result] = field(default_factory=list)
    payload: list[tuple[str, int, float, float, float, float]] = field(default_factory=list)  # system, records, raw, wire, gzip, zstd
    loads: list[tuple[str, LoadResult]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, section: str, system: str, driver: str, size: int, timing: Timing | list[float], unit: str = "records") -> None:
        t = timing if isinstance(timing, Timing) else Timing(list(timing))
        r = Result(section, system, driver, size, t, unit)
        self.results.append(r)
        print(f"  {section:<28} {system:<26} {driver:<30} {size:>9,} {t.median:>10.1f} ms  {r.rate:>11,.0f} {unit}/s", flush=True)

    def find(self, section: str, system: str, driver: str | None = None) -> Result | None:
        for r in self.results:
            if r.section == section and r.system == system and (driver is None or r.driver == driver):
                return r
        return None

    def add_payload(self, system: str, records: int, sink: list[tuple[bytes, int]]) -> None:
        raw = sum(len(b) for b, _ in sink)
        wire = sum(w for _, w in sink)
        gz = sum(len(gzip.compress(b, 6)) for b, _ in sink)
        zst = sum(len(ZSTD.compress(b)) for b, _ in sink)
        self.payload.append((system, records, raw / records, wire / records, gz / records, zst / records))
        print(f"  payload {system:<30} {raw / records:8.1f} B/record raw, {wire / records:8.1f} on the wire, "
              f"{gz / records:8.1f} gzipped, {zst / records:8.1f} zstd", flush=True)


# --- peers ------------------------------------------------------------------------------------


def _docs(n: int, salt: str) -> list[dict[str, Any]]:
    return list(data.records(n, data.PEER_REP, 100, salt))


async def pouch_phase(cfg: Config, rep: Report, files: dict[str, Path], in_memory: bool) -> None:
    kind = "memory" if in_memory else "LevelDB"
    system = f"pouchdb-server ({kind})"
    with scratch_dir("pouch") as work:
        srv = peers.PouchServer(work, in_memory)
        try:
            async with httpx.AsyncClient(timeout=600) as client:
                for size in cfg.initial:
                    db = f"visits{size}"
                    srv.create_db(db)
                    srv.seed(db, data.records(size, data.PEER_REP))
                    runs = cfg.runs if size <= 10_000 else cfg.runs_big
                    if size <= 10_000 or not in_memory:  # the PouchDB client needs minutes per 100k run
                        out = peers.node_client({"mode": "pouch-pull", "url": srv.db_url(db), "batch": cfg.page,
                                                 "expect": size, "runs": runs, "warmup": 1})
                        rep.add(f"initial sync {size:,}", system, "PouchDB client (memory)", size, out["times"])

                    async def plain(db: str = db, size: int = size) -> None:
                        n, _, _ = await peers.pouch_changes_pull(client, srv.db_url(db), cfg.page)
                        if n != size:
                            raise RuntimeError(f"_changes gave {n} docs, expected {size}")

                    rep.add(f"initial sync {size:,}", system, "HTTP _changes?include_docs", size,
                            await measure(plain, runs))
                    if size == cfg.initial[0]:
                        sink: list[tuple[bytes, int]] = []
                        await peers.pouch_changes_pull(client, srv.db_url(db), cfg.page, sink=sink)
                        rep.add_payload(f"{system} _changes", size, sink)
                    await client.delete(srv.db_url(db))

                out = peers.node_client({"mode": "pouch-push", "url": f"{srv.base}/pushc", "batch": cfg.push_batch,
                                         "file": str(files["push"]), "runs": cfg.runs, "warmup": 1})
                rep.add("push 1,000 creates", system, "PouchDB client (memory)", cfg.push_n, out["times"], "mutations")
                rep.add("push 1,000 updates", system, "PouchDB client (memory)", cfg.push_n, out["update_times"], "mutations")

                creates: list[float] = []
                updates: list[float] = []
                base_docs = [peers.pouch_doc(d) for d in _docs(cfg.push_n, "peer-push")]
                for run in range(cfg.runs + 1):
                    url = srv.db_url(f"pushp{run}")
                    srv.create_db(f"pushp{run}")
                    t0 = now_ms()
                    saved = await peers.pouch_bulk_push(client, url, base_docs, cfg.push_batch)
                    c_ms = now_ms() - t0
                    changed = [{**d, "notes": d["notes"] + " 已更新"} for d in saved]
                    t0 = now_ms()
                    await peers.pouch_bulk_push(client, url, changed, cfg.push_batch)
                    u_ms = now_ms() - t0
                    if run:
                        creates.append(c_ms)
                        updates.append(u_ms)
                    await client.delete(url)
                rep.add("push 1,000 creates", system, "HTTP _bulk_docs", cfg.push_n, creates, "mutations")
                rep.add("push 1,000 updates", system, "HTTP _bulk_docs", cfg.push_n, updates, "mutations")

                # incremental pull of 100 new docs, with small_db and then big docs in the database
                big = cfg.peer_big if not in_memory else min(cfg.peer_big, MEMORY_BIG)  # seeded through HTTP
                srv.create_db("inc")
                srv.seed("inc", data.records(cfg.small_db, data.PEER_REP, 100, "inc"))
                await _pouch_incremental(cfg, rep, client, srv.db_url("inc"), system, cfg.small_db)
                t0 = time.monotonic()
                srv.seed("inc", (d for i, d in enumerate(data.records(big, data.PEER_REP, 100, "inc")) if i >= cfg.small_db))
                rep.notes.append(f"{system}: grew the incremental database to {big:,} docs via _bulk_docs "
                                 f"in {time.monotonic() - t0:.0f} s")
                await _pouch_incremental(cfg, rep, client, srv.db_url("inc"), system, big)
        finally:
            srv.stop()


async def _pouch_incremental(cfg: Config, rep: Report, client: httpx.AsyncClient, url: str, system: str, dbsize: int) -> None:
    since = (await client.get(url)).json()["update_seq"]
    run = 0

    async def one() -> float:
        nonlocal since, run
        run += 1
        docs = [peers.pouch_doc(d) for d in _docs(cfg.changes, f"inc-{dbsize}-{run}")]
        await peers.pouch_bulk_push(client, url, docs, cfg.changes)
        t0 = now_ms()
        n, since, _ = await peers.pouch_changes_pull(client, url, cfg.page, since)
        ms = now_ms() - t0
        if n != cfg.changes:
            raise RuntimeError(f"incremental _changes gave {n}")
        return ms

    rep.add(f"incremental 100 @ {dbsize:,}", system, "HTTP _changes since", cfg.changes, await measure(one, cfg.runs))


async def rxdb_phase(cfg: Config, rep: Report, files: dict[str, Path]) -> None:
    system = "rxdb-server (memory)"
    async with httpx.AsyncClient(timeout=600) as client:
        for size in cfg.initial:
            srv = peers.RxdbServer(files[f"initial{size}"])
            try:
                runs = cfg.runs if size <= 10_000 else cfg.runs_big
                out = peers.node_client({"mode": "rxdb-pull", "url": srv.url, "batch": cfg.page, "expect": size,
                                         "runs": runs, "warmup": 1})
                rep.add(f"initial sync {size:,}", system, "RxDB replicateServer", size, out["times"])

                async def plain(srv: peers.RxdbServer = srv, size: int = size) -> None:
                    n, _, _ = await peers.rxdb_http_pull(client, srv.url, cfg.page)
                    if n != size:
                        raise RuntimeError(f"/pull gave {n}, expected {size}")

                rep.add(f"initial sync {size:,}", system, "HTTP /pull", size, await measure(plain, runs))
                if size == cfg.initial[0]:
                    sink: list[tuple[bytes, int]] = []
                    await peers.rxdb_http_pull(client, srv.url, cfg.page, sink=sink)
                    rep.add_payload(f"{system} /pull", size, sink)
            finally:
                srv.stop()

        srv = peers.RxdbServer(files[f"initial{cfg.initial[0]}"] if cfg.small_db == cfg.initial[0] else None)
        try:
            out = peers.node_client({"mode": "rxdb-push", "url": srv.url, "batch": cfg.push_batch,
                                     "file": str(files["push"]), "runs": cfg.runs, "warmup": 1})
            rep.add("push 1,000 creates", system, "RxDB replicateServer", cfg.push_n, out["times"], "mutations")
            rep.add("push 1,000 updates", system, "RxDB replicateServer", cfg.push_n, out["update_times"], "mutations")
            creates: list[float] = []
            updates: list[float] = []
            for run in range(cfg.runs + 1):
                docs = _docs(cfg.push_n, f"rx-plain-{run}")
                t0 = now_ms()
                await peers.rxdb_http_push(client, srv.url, [peers.rx_new(d) for d in docs], cfg.push_batch)
                c_ms = now_ms() - t0
                rows = [peers.rx_update(d, {**d, "notes": d["notes"] + " 已更新"}) for d in docs]
                t0 = now_ms()
                await peers.rxdb_http_push(client, srv.url, rows, cfg.push_batch)
                u_ms = now_ms() - t0
                if run:
                    creates.append(c_ms)
                    updates.append(u_ms)
            rep.add("push 1,000 creates", system, "HTTP /push", cfg.push_n, creates, "mutations")
            rep.add("push 1,000 updates", system, "HTTP /push", cfg.push_n, updates, "mutations")
        finally:
            srv.stop()

        # RxDB's memory storage inserts into sorted arrays: 1,000,000 documents did not load
        # in 30 minutes (two runs of 2026-11-25/26), so its big database is capped as the
        # in-memory pouchdb-server's is.
        for dbsize, key in ((cfg.small_db, "inc_small"), (min(cfg.peer_big, MEMORY_BIG), "inc_big_memory")):
            t0 = time.monotonic()
            srv = peers.RxdbServer(files[key])
            rep.notes.append(f"{system}: seeded {dbsize:,} docs in-process in {time.monotonic() - t0:.0f} s")
            try:
                await _rxdb_incremental(cfg, rep, client, srv, system, dbsize)
            finally:
                srv.stop()


async def _rxdb_incremental(cfg: Config, rep: Report, client: httpx.AsyncClient, srv: peers.RxdbServer,
                            system: str, dbsize: int) -> None:
    checkpoint = {"id": "", "lwt": time.time() * 1000.0}  # the head: every later write has a larger lwt
    run = 0

    async def one() -> float:
        nonlocal checkpoint, run
        run += 1
        docs = _docs(cfg.changes, f"rxinc-{dbsize}-{run}")
        await peers.rxdb_http_push(client, srv.url, [peers.rx_new(d) for d in docs], cfg.changes)
        t0 = now_ms()
        n, checkpoint, _ = await peers.rxdb_http_pull(client, srv.url, cfg.page, checkpoint)
        ms = now_ms() - t0
        if n != cfg.changes:
            raise RuntimeError(f"incremental /pull gave {n}")
        return ms

    rep.add(f"incremental 100 @ {dbsize:,}", system, "HTTP /pull since", cfg.changes, await measure(one, cfg.runs))


# --- Revisit ----------------------------------------------------------------------------------


async def revisit_phase(cfg: Config, rep: Report, kind: str) -> None:
    system = f"Revisit ({'SQLite WAL' if kind == 'sqlite' else 'PostgreSQL'})"
    with scratch_dir(f"revisit-{kind}") as work:
        database = rv.new_database(kind, work, "bench")
        try:
            await rv.open_db(database, work)
            inc = (await rv.make_reps(1, "Bench North", "inc"))[0]
            init_reps = await rv.make_reps(len(cfg.initial), "Bench North", "init")
            push_rep = (await rv.make_reps(1, "Bench North", "push"))[0]
            load_reps = await rv.make_reps(cfg.load_reps, "Bench South", "load")
            await rv.seed_bucket(database, inc[0], inc[2], cfg.small_db)
            await rv.analyze(database)
            await rv.close_db()
            server = rv.RevisitServer(database, work)
            try:
                async with rv.http_client(server.base) as client:
                    await _revisit_incremental(cfg, rep, client, inc, system, cfg.small_db)
                    t0 = time.monotonic()
                    total = cfg.small_db
                    await rv.open_db(database, work)
                    for r, size in zip(init_reps, cfg.initial, strict=True):
                        await rv.seed_bucket(database, r[0], r[2], size)
                        total += size
                    await rv.seed_bucket(database, push_rep[0], push_rep[2], cfg.push_n, customers=cfg.push_n)
                    total += cfg.push_n
                    for r in load_reps:
                        await rv.seed_bucket(database, r[0], r[2], cfg.load_records, customers=20)
                        total += cfg.load_records
                    fillers = max(0, cfg.big_db - total)
                    await rv.seed_fillers(database, fillers)
                    total += fillers
                    await rv.analyze(database)
                    await rv.close_db()
                    rep.notes.append(f"{system}: bulk-seeded the database to {total:,} rows in "
                                     f"{time.monotonic() - t0:.0f} s")
                    await _revisit_incremental(cfg, rep, client, inc, system, total)

                    for r, size in zip(init_reps, cfg.initial, strict=True):
                        await _revisit_initial(cfg, rep, client, r, system, size, database, work)
                    await _revisit_push(cfg, rep, client, push_rep, system)
                result = await run_load(server.base, load_reps, 20, cfg.load_seconds, cfg.think_s, server.proc.proc.pid,
                                        cfg.load_processes)
                rep.loads.append((system, result))
                print(f"  load {system}: {result}", flush=True)
            finally:
                server.stop()
        finally:
            database.drop()


async def _revisit_incremental(cfg: Config, rep: Report, client: httpx.AsyncClient, who: tuple[str, str, str],
                               system: str, dbsize: int) -> None:
    token = await rv.login(client, who[1])
    tr = rv.HttpTransport(client, token)
    reader = rv.new_device(who[1])
    await reader.pull(tr)
    rv.check_device(reader)
    writer = rv.new_device(who[1])  # the rep's second device
    run = 0

    async def one() -> float:
        nonlocal run
        run += 1
        before = len(reader.live_rows())
        rv.visit_creates(writer, data.records(cfg.changes, who[0], 100, f"inc-{dbsize}-{run}-{uuid.uuid4()}"))
        await writer.push(tr)
        t0 = now_ms()
        await reader.pull(tr)
        ms = now_ms() - t0
        rv.check_device(reader, before + cfg.changes)
        return ms

    rep.add(f"incremental 100 @ {dbsize:,}", system, "Device pull (cursor+checksum)", cfg.changes,
            await measure(one, cfg.runs))


async def _revisit_initial(cfg: Config, rep: Report, client: httpx.AsyncClient, who: tuple[str, str, str],
                           system: str, size: int, database: rv.Database, work: Path) -> None:
    token = await rv.login(client, who[1])
    runs = cfg.runs if size <= 10_000 else cfg.runs_big

    async def device() -> None:
        tr = rv.HttpTransport(client, token)
        dev = rv.new_device(who[1])
        await dev.pull(tr, limit=cfg.page)
        rv.check_device(dev, size)

    rep.add(f"initial sync {size:,}", system, "Device pull (pages+cursor+checksum)", size, await measure(device, runs))

    async def plain() -> None:
        n, _, _ = await rv.plain_pull(client, token, cfg.page)
        if n < size:
            raise RuntimeError(f"plain pull gave {n}, expected {size}")

    rep.add(f"initial sync {size:,}", system, "HTTP /api/sync/pull pages", size, await measure(plain, runs))
    if size == cfg.initial[0]:
        sink: list[tuple[bytes, int]] = []
        await rv.plain_pull(client, token, cfg.page, sink=sink)
        rep.add_payload(f"{system} /api/sync/pull", size, sink)
        rep.add(f"initial sync {size:,}", system, "client CPU only (decode+apply+verify)", size,
                await measure(lambda: _client_cpu(sink, who[1], size), runs))
        if database.kind == "sqlite" and database.path is not None:
            rep.add(f"initial sync {size:,}", "floor: SQLite + msgspec", "SELECT ORDER BY seq + encode", size,
                    await asyncio.to_thread(read_floor, database.path, who[0], runs))
            rep.add("push 1,000 creates", "floor: SQLite + msgspec", "INSERT 1,000 rows, 1 transaction", 1000,
                    await asyncio.to_thread(write_floor, database.path, work / "floor.db", who[0], runs), "mutations")


async def _client_cpu(sink: list[tuple[bytes, int]], user: str, size: int) -> None:
    """The device's own share of an initial sync: the same page bodies, no network or server."""
    bodies = [b for b, _ in sink]

    class Replay:
        async def call(self, device: Any, endpoint: str, body: bytes) -> tuple[int, bytes]:
            return 200, bodies.pop(0)

    dev = rv.new_device(user)
    await dev.pull(Replay())  # type: ignore[arg-type]
    rv.check_device(dev, size)


async def _revisit_push(cfg: Config, rep: Report, client: httpx.AsyncClient, who: tuple[str, str, str], system: str) -> None:
    token = await rv.login(client, who[1])
    creates: list[float] = []
    updates: list[float] = []
    for run in range(cfg.runs + 1):
        tr = rv.HttpTransport(client, token)
        dev = rv.new_device(who[1])
        await dev.pull(tr)  # not timed: the device knows the customers and their clocks
        rv.visit_creates(dev, data.records(cfg.push_n, who[0], cfg.push_n, f"push-{uuid.uuid4()}"))
        t0 = now_ms()
        await rv.push_batches(dev, tr, cfg.push_batch)
        c_ms = now_ms() - t0
        for j in range(cfg.push_n):
            dev.put("customers", data.customer_id(who[0], j), {"phone": f"+86 138 {run:02d}{j:06d}"})
        t0 = now_ms()
        await rv.push_batches(dev, tr, cfg.push_batch)
        u_ms = now_ms() - t0
        if run:
            creates.append(c_ms)
            updates.append(u_ms)
    rep.add("push 1,000 creates", system, "Device push (100 per request)", cfg.push_n, creates, "mutations")
    rep.add("push 1,000 updates", system, "Device push (100 per request)", cfg.push_n, updates, "mutations")


# --- report -----------------------------------------------------------------------------------


def _ratio(rep: Report, section: str, a: tuple[str, str], b: tuple[str, str]) -> float | None:
    ra, rb = rep.find(section, *a), rep.find(section, *b)
    if ra is None or rb is None:
        return None
    return ra.timing.median / rb.timing.median


def targets(rep: Report) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows, every one a ratio of medians from this run."""
    cfg = rep.cfg
    s10 = f"initial sync {cfg.initial[0]:,}"
    out: list[tuple[str, str, str]] = []

    def row(name: str, value: float | None, ok: Callable[[float], bool], fmt: str = "{:.2f}x") -> None:
        if value is None:
            out.append((name, "not measured", "—"))
        else:
            out.append((name, fmt.format(value), "met" if ok(value) else "MISSED"))

    for kind in ("SQLite WAL", "PostgreSQL"):
        # Like with like: plain HTTP pages against the peers' plain HTTP reads (the same httpx
        # client and msgspec decoding), and each system's own client against the others'.
        http = (f"Revisit ({kind})", "HTTP /api/sync/pull pages")
        device = (f"Revisit ({kind})", "Device pull (pages+cursor+checksum)")
        row(f"{s10}, HTTP: pouchdb-server (LevelDB) _changes / Revisit {kind} pages ≥ 4",
            _ratio(rep, s10, ("pouchdb-server (LevelDB)", "HTTP _changes?include_docs"), http), lambda v: v >= 4)
        row(f"{s10}, HTTP: pouchdb-server (memory) _changes / Revisit {kind} pages ≥ 4",
            _ratio(rep, s10, ("pouchdb-server (memory)", "HTTP _changes?include_docs"), http), lambda v: v >= 4)
        row(f"{s10}, HTTP: rxdb-server /pull / Revisit {kind} pages ≥ 1",
            _ratio(rep, s10, ("rxdb-server (memory)", "HTTP /pull"), http), lambda v: v >= 1)
        row(f"{s10}, HTTP: Revisit {kind} pages / floor ≤ 4",
            _ratio(rep, s10, http, ("floor: SQLite + msgspec", "SELECT ORDER BY seq + encode")), lambda v: v <= 4)
        row(f"{s10}, clients: PouchDB replicate (LevelDB server) / Revisit {kind} Device ≥ 4",
            _ratio(rep, s10, ("pouchdb-server (LevelDB)", "PouchDB client (memory)"), device), lambda v: v >= 4)
        row(f"{s10}, clients: RxDB replicateServer / Revisit {kind} Device ≥ 1",
            _ratio(rep, s10, ("rxdb-server (memory)", "RxDB replicateServer"), device), lambda v: v >= 1)
        mine = (f"Revisit ({kind})", "Device push (100 per request)")
        for sec in ("push 1,000 creates", "push 1,000 updates"):
            row(f"{sec}: rxdb-server /push / Revisit {kind} ≥ 1",
                _ratio(rep, sec, ("rxdb-server (memory)", "HTTP /push"), mine), lambda v: v >= 1)
            row(f"{sec}, clients: RxDB replicateServer / Revisit {kind} Device ≥ 1",
                _ratio(rep, sec, ("rxdb-server (memory)", "RxDB replicateServer"), mine), lambda v: v >= 1)
        smalls = [r for r in rep.results if r.system == f"Revisit ({kind})" and r.section.startswith("incremental")]
        if len(smalls) == 2:
            row(f"incremental 100: Revisit {kind} {smalls[1].section[16:]} / {smalls[0].section[16:]} ≤ 1.5",
                smalls[1].timing.median / smalls[0].timing.median, lambda v: v <= 1.5)
    for system, load in rep.loads:
        row(f"{load.reps} reps: p99 on {system} < 500 ms (and 0 errors: {load.errors + load.non200})",
            load.p99, lambda v, load=load: v < 500 and load.errors + load.non200 == 0, "{:.0f} ms")
    return out


def markdown(rep: Report, facts: dict[str, str], command: str, commit: str, started: str, minutes: float) -> str:
    cfg = rep.cfg
    lines = [
        f"## {started} — {'quick' if cfg.quick else 'full'} run",
        "",
        f"- command: `{command}`",
        f"- git commit: `{commit}`; took {minutes:.1f} min",
        f"- machine: {facts['cores']} cores ({facts['cpu']}), {facts['ram']} RAM, {facts['os']}; load average at start {facts['load']}",
        f"- versions: Python {facts['python']}, Node {facts['node']}, SQLite {facts['sqlite']}, PostgreSQL {facts['postgresql']}",
        f"- sizes: initial {', '.join(f'{s:,}' for s in cfg.initial)}; incremental DB {cfg.small_db:,} → Revisit {cfg.big_db:,} / peers {cfg.peer_big:,}; "
        f"median of {cfg.runs} runs ({cfg.runs_big} for the largest) after 1 warm-up; page size {cfg.page}",
        "",
        "| measurement | system | driver | n | median ms | per second | runs (ms) |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for r in rep.results:
        runs = ", ".join(f"{x:.0f}" for x in r.timing.runs)
        lines.append(f"| {r.section} | {r.system} | {r.driver} | {r.size:,} | {r.timing.median:,.1f} | "
                     f"{r.rate:,.0f} {r.unit} | {runs} |")
    if rep.payload:
        lines += ["", "Payload of the initial sync (bytes per record; raw = JSON body, wire = what httpx read with "
                  f"`Accept-Encoding: {httpx.Client().headers['accept-encoding']}`, gzip = the bodies gzipped at level 6, "
                  f"zstd = the bodies at Zstandard level {ZSTD_LEVEL}):", "",
                  "| system | records | raw B/record | wire B/record | gzip B/record | zstd B/record |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for system, n, raw, wire, gz, zst in rep.payload:
            lines.append(f"| {system} | {n:,} | {raw:,.0f} | {wire:,.0f} | {gz:,.0f} | {zst:,.0f} |")
    if rep.loads:
        lines += ["", f"Many devices: each rep loops log-a-visit → push → pull → verify, think time "
                  f"{cfg.think_s:g} s ± 50 %; the devices run in {cfg.load_processes} driver process"
                  f"{'es' if cfg.load_processes > 1 else ''} (driver CPU: all of them):", "",
                  "| system | reps | seconds | requests | req/s | sync cycles | p50 ms | p95 ms | p99 ms | max ms | errors | non-200 "
                  "| server CPU | driver CPU | driver lag p50 / p99 ms |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for system, ld in rep.loads:
            lines.append(f"| {system} | {ld.reps} | {ld.seconds:.0f} | {ld.requests:,} | {ld.rps:,.0f} | {ld.cycles:,} | "
                         f"{ld.p50:.0f} | {ld.p95:.0f} | {ld.p99:.0f} | {ld.max:.0f} | {ld.errors} | {ld.non200} | "
                         f"{ld.server_cpu:.0%} | {ld.driver_cpu:.0%} | {ld.driver_lag_p50:.0f} / {ld.driver_lag_p99:.0f} |")
        for system, ld in rep.loads:
            per = "; ".join(f"{ep}: p50 {v['p50']:.0f} / p95 {v['p95']:.0f} / p99 {v['p99']:.0f} ms (n={v['n']:,})"
                            for ep, v in ld.by_endpoint.items())
            lines.append(f"\n{system} by endpoint: {per}." + (f" First errors: {ld.error_samples}" if ld.error_samples else ""))
    lines += ["", "Targets (ratios of medians from this run):", "", "| target | measured | verdict |", "| --- | ---: | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in targets(rep)]
    if rep.notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in rep.notes]
    if rep.failures:
        lines += ["", "Failed parts of this run:", ""] + [f"- {f}" for f in rep.failures]
    return "\n".join(lines) + "\n"


def append_doc(text: str) -> None:
    if not DOC.exists():
        DOC.write_text("# Benchmarks\n\nResults appended by `make bench` (`bench/run.py`); read "
                       "the method and analysis at the top before the figures.\n\n")
    with DOC.open("a", encoding="utf-8") as fh:
        fh.write("\n" + text)


def write_inputs(cfg: Config, work: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for size in cfg.initial:
        files[f"initial{size}"] = work / f"initial{size}.ndjson"
        data.write_ndjson(files[f"initial{size}"], data.records(size, data.PEER_REP))
    files["push"] = work / "push.ndjson"
    data.write_ndjson(files["push"], data.records(cfg.push_n, data.PEER_REP, 100, "node-push"))
    files["inc_small"] = work / "inc_small.ndjson"
    data.write_ndjson(files["inc_small"], data.records(cfg.small_db, data.PEER_REP, 100, "inc"))
    files["inc_big_memory"] = work / "inc_big_memory.ndjson"
    data.write_ndjson(files["inc_big_memory"], data.records(min(cfg.peer_big, MEMORY_BIG), data.PEER_REP, 100, "inc"))
    return files


async def main_async(args: argparse.Namespace) -> int:
    cfg = Config.make(args.quick, args)
    only = set(args.only.split(",")) if args.only else {"peers", "sqlite", "postgres"}
    rep = Report(cfg)
    facts = machine_facts()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t_start = time.monotonic()
    from bench.common import command_line, git_commit

    extra = [a for a in sys.argv[1:] if a != "--from-make"]
    command = (f"make bench BENCH_ARGS='{' '.join(extra)}'" if extra else "make bench") if args.from_make else command_line()
    commit = git_commit()
    print(f"bench: {'quick' if cfg.quick else 'full'} run, commit {commit}, {facts}", flush=True)

    async def guarded(name: str, coro: Any) -> None:
        try:
            await coro
        except Exception as exc:  # a failed part is reported, the rest still runs
            traceback.print_exc()
            rep.failures.append(f"{name}: {type(exc).__name__}: {str(exc)[:400]}")

    with scratch_dir("inputs") as work:
        if "peers" in only:
            peers.ensure_installed()
            files = await asyncio.to_thread(write_inputs, cfg, work)
            await guarded("pouchdb-server (LevelDB)", pouch_phase(cfg, rep, files, in_memory=False))
            await guarded("pouchdb-server (memory)", pouch_phase(cfg, rep, files, in_memory=True))
            await guarded("rxdb-server", rxdb_phase(cfg, rep, files))
        if "sqlite" in only:
            await guarded("Revisit SQLite", revisit_phase(cfg, rep, "sqlite"))
        if "postgres" in only:
            await guarded("Revisit PostgreSQL", revisit_phase(cfg, rep, "postgres"))

    minutes = (time.monotonic() - t_start) / 60
    text = markdown(rep, facts, command, commit, started, minutes)
    print("\n" + text)
    if not args.no_append:
        append_doc(text)
        print(f"appended to {DOC.relative_to(ROOT)}")
    return 1 if rep.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and a few seconds of load")
    parser.add_argument("--only", help="comma list of parts: peers, sqlite, postgres")
    parser.add_argument("--no-append", action="store_true", help="print only; do not touch docs/benchmarks.md")
    parser.add_argument("--load-seconds", type=float, help="duration of the many-devices run")
    parser.add_argument("--think", type=float, help="think time of a simulated rep between syncs (s)")
    parser.add_argument("--peer-big", type=int, help="docs in the peers' big incremental database")
    parser.add_argument("--load-processes", type=int,
                        help="driver processes the many-devices run deals its devices among (default 2)")
    parser.add_argument("--from-make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every ``finally`` stops its server and drops its database
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())


_ = statistics  # medians come from bench.common.Timing

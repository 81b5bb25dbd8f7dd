"""The PWA's initial sync in Chromium: how long a rep waits after signing in on a new
phone until the replica holds the whole bucket, against the IndexedDB floor in the same
browser.

    .venv/bin/python -m bench.pwa [--records 10000] [--runs 5] [--latency 0,100,300]
                                  [--ab ../other-checkout/pwa/dist] [--append]

A real ``revisit serve`` (SQLite, the bucket seeded in bulk as in ``bench.run``) serves the
built PWA (``make pwa``); Debian's Chromium runs it through Playwright, a fresh browser
profile per run (an empty IndexedDB, a new device). Timed, per run:

- **PWA first sync**: from pressing "Sign in" to the sync pill's ``data-last-sync``,
  i.e. login, the first push (empty), every pull page applied, and the checksums
  verified. After each run the replica's rows of the rep's bucket are counted in
  IndexedDB; a run that holds fewer than the bucket fails the benchmark.
- The same **with network latency** (Chrome's own emulation, ``--latency`` ms added to
  every request), as on a phone's mobile network.
- **The floor**: the very rows the PWA stores (fetched from the pull API first, not
  timed) written into a bare IndexedDB object store with plain ``put``, one transaction
  of 500 rows per page as the PWA commits them. No Dexie, no rules, no network, no UI.
- **PouchDB in the same browser** (``pouchdb`` 9.0.0's browser build from ``bench/peers``,
  its default IndexedDB adapter): ``PouchDB.replicate`` of the same 10,000 records from
  ``pouchdb-server --in-memory`` (its fastest storage), batches of 500, into a new local
  database, timed in the page from the call to its end. It is what a team would
  otherwise put on the phone; its time includes no sign-in and no verification.

``--ab DIR`` serves another build of the PWA (say an older checkout's ``pwa/dist``) from a
second server on the same database, alternated run by run, so the two are compared in
one run. Not a test: it prints figures, and with ``--append`` adds them to
docs/benchmarks.md with the command and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import data, peers
from bench import revisit as rv
from bench.common import DOC, PEERS, ROOT, git_commit, machine_facts, scratch_dir, utc_now

DIST = ROOT / "pwa" / "dist"
CHROMIUM = os.environ.get("REVISIT_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
POUCH_LABEL = "PouchDB 9.0.0 in Chromium"

# the rows of the rep's bucket in the replica (every replica table, by the `_b` index)
COUNT_JS = """async (bucket) => {
  const db = await new Promise((ok, no) => { const q = indexedDB.open('revisit'); q.onsuccess = () => ok(q.result); q.onerror = no; });
  let n = 0;
  for (const name of db.objectStoreNames) {
    const store = db.transaction(name).objectStore(name);
    if (!store.indexNames.contains('_b')) continue;
    const q = store.index('_b').count(bucket);
    n += await new Promise((ok, no) => { q.onsuccess = () => ok(q.result); q.onerror = no; });
  }
  db.close();
  return n;
}"""

# the floor: the pulled rows, as the PWA stores them, put into a bare object store
FLOOR_JS = """async ([token, page]) => {
  const rows = []; let cursor = null;
  for (;;) {
    const r = await fetch('/api/sync/pull', {method: 'POST', headers: {'content-type': 'application/json', authorization: 'Bearer ' + token},
      body: JSON.stringify({protocol: 1, client_id: crypto.randomUUID(), clock: '000000000001-0000-bench', cursor, limit: page})});
    if (!r.ok) throw new Error('pull ' + r.status + ' ' + await r.text());
    const body = await r.json();
    for (const c of body.changes) rows.push({...c.row, id: c.id, v: c.v, _b: c.bucket});
    cursor = body.cursor; if (!body.more) break;
  }
  const name = 'floor-' + crypto.randomUUID();
  const db = await new Promise((ok, no) => { const q = indexedDB.open(name, 1);
    q.onupgradeneeded = () => q.result.createObjectStore('rows', {keyPath: 'id'}).createIndex('_b', '_b');
    q.onsuccess = () => ok(q.result); q.onerror = no; });
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += page) {
    const tx = db.transaction('rows', 'readwrite'); const store = tx.objectStore('rows');
    for (const row of rows.slice(i, i + page)) store.put(row);
    await new Promise((ok, no) => { tx.oncomplete = ok; tx.onerror = no; tx.onabort = no; });
  }
  const ms = performance.now() - t0;
  db.close(); indexedDB.deleteDatabase(name);
  return [rows.length, ms];
}"""


POUCH_JS = PEERS / "node_modules" / "pouchdb" / "dist" / "pouchdb.min.js"
POUCH_PAGE = "/_bench_pouchdb.html"  # served by the browser itself (a route), at pouchdb-server's origin
POUCH_REPLICATE_JS = """async ([url, batch]) => {
  const local = new PouchDB('bench-' + crypto.randomUUID());
  const t0 = performance.now();
  const res = await PouchDB.replicate(url, local, {batch_size: batch});
  const ms = performance.now() - t0;
  const info = await local.info();
  const adapter = local.adapter;
  await local.destroy();
  if (!res.ok) throw new Error('replication failed: ' + JSON.stringify(res.errors));
  return [info.doc_count, ms, adapter];
}"""


def _pouch_run(browser: Any, pouch: peers.PouchServer, db: str, page_size: int, latency: int) -> tuple[float, int, str]:
    """PouchDB's browser build replicating ``db`` into a new IndexedDB database, in a page
    of pouchdb-server's own origin (so no CORS), the script served by the browser."""
    context = browser.new_context(base_url=pouch.base)
    try:
        context.route(f"{pouch.base}{POUCH_PAGE}", lambda route: route.fulfill(
            content_type="text/html", body="<!doctype html><script src='/_bench_pouchdb.min.js'></script>"))
        context.route(f"{pouch.base}/_bench_pouchdb.min.js", lambda route: route.fulfill(
            content_type="text/javascript", path=str(POUCH_JS)))
        page = context.new_page()
        if latency:
            _emulate_latency(context, page, latency)
        page.goto(POUCH_PAGE)
        held, ms, adapter = page.evaluate(POUCH_REPLICATE_JS, [pouch.db_url(db), page_size])
        return float(ms), int(held), str(adapter)
    finally:
        context.close()


def _emulate_latency(context: Any, page: Any, latency: int) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": latency, "downloadThroughput": -1, "uploadThroughput": -1})


async def _prepare(work: Path, records: int) -> tuple[rv.Database, tuple[str, str, str]]:
    database = rv.new_database("sqlite", work, "pwa")
    await rv.open_db(database, work)
    rep = (await rv.make_reps(1, "Bench PWA", "pwa"))[0]
    await rv.seed_bucket(database, rep[0], rep[2], records)
    await rv.analyze(database)
    await rv.close_db()
    return database, rep


def _first_sync(browser: Any, base: str, username: str, bucket: str, latency: int) -> tuple[float, int]:
    """One new device: sign in through the login screen, wait for the first sync to end."""
    context = browser.new_context(base_url=base, viewport=PHONE)
    try:
        page = context.new_page()
        if latency:
            _emulate_latency(context, page, latency)
        page.goto("/")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(rv.PASSWORD)
        t0 = time.perf_counter()
        page.get_by_test_id("login-submit").click()
        page.wait_for_function("() => !!document.querySelector('[data-testid=sync-pill]')?.dataset.lastSync",
                               timeout=600_000)
        ms = 1000 * (time.perf_counter() - t0)
        return ms, int(page.evaluate(COUNT_JS, bucket))
    finally:
        context.close()


def run(args: argparse.Namespace) -> str:
    builds = [("this checkout", DIST)] + ([("--ab build", Path(args.ab).resolve())] if args.ab else [])
    for _, dist in builds:
        if not (dist / "index.html").is_file():
            raise SystemExit(f"no PWA build at {dist} (make pwa)")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set REVISIT_CHROMIUM)")
    latencies = [int(x) for x in args.latency.split(",")]
    started = utc_now()
    with scratch_dir("bench-pwa") as work:
        database, (rep_id, username, _) = asyncio.run(_prepare(work, args.records))
        bucket = f"rep:{rep_id}"
        servers = [rv.RevisitServer(database, work, f"pwa{i}", static_dir=dist) for i, (_, dist) in enumerate(builds)]
        times: dict[tuple[str, int], list[float]] = {}
        floor: list[float] = []
        pouch: peers.PouchServer | None = None
        adapter = "?"
        try:
            if args.pouch:
                pouch = peers.PouchServer(work / "pouch", in_memory=True)
                pouch.create_db("visits")
                pouch.seed("visits", data.records(args.records, data.PEER_REP))
            from playwright.sync_api import sync_playwright

            token = httpx.post(servers[0].base + "/api/auth/login",
                               json={"username": username, "password": rv.PASSWORD}).json()["access_token"]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                for run_no in range(args.runs + 1):  # the first is a warm-up
                    for latency in latencies:
                        for (label, _), server in zip(builds, servers, strict=True):
                            ms, held = _first_sync(browser, server.base, username, bucket, latency)
                            if held < args.records:
                                raise RuntimeError(f"{label}: the replica holds {held} of {args.records} rows")
                            if run_no:
                                times.setdefault((label, latency), []).append(ms)
                            print(f"run {run_no}: {label}, latency {latency} ms: {ms:,.0f} ms ({held:,} rows)", flush=True)
                        if pouch is not None:
                            ms, held, adapter = _pouch_run(browser, pouch, "visits", args.page, latency)
                            if held != args.records:
                                raise RuntimeError(f"PouchDB replicated {held} of {args.records} documents")
                            if run_no:
                                times.setdefault((POUCH_LABEL, latency), []).append(ms)
                            print(f"run {run_no}: PouchDB ({adapter}), latency {latency} ms: {ms:,.0f} ms", flush=True)
                    context = browser.new_context(base_url=servers[0].base)
                    page = context.new_page()
                    page.goto("/api/health")
                    n, ms = page.evaluate(FLOOR_JS, [token, args.page])
                    context.close()
                    if run_no:
                        floor.append(ms)
                    print(f"run {run_no}: IndexedDB floor: {ms:,.0f} ms ({n:,} rows)", flush=True)
                browser.close()
        finally:
            for server in servers:
                server.stop()
            if pouch is not None:
                pouch.stop()
            database.drop()
    base_floor = statistics.median(floor)
    facts = machine_facts()
    lines = [
        f"## {started} — PWA initial sync",
        "",
        f"- command: `.venv/bin/python -m bench.pwa {' '.join(sys.argv[1:])}`".rstrip(),
        f"- git commit: `{git_commit()}`" + (f"; `--ab` build: `{args.ab}`" if args.ab else ""),
        f"- machine: {facts['cores']} cores ({facts['cpu']}), {facts['ram']} RAM; load average at start {facts['load']}",
        f"- Chromium: `{CHROMIUM}`; {args.records:,} records in the rep's bucket; page size {args.page}; "
        f"median of {args.runs} runs after 1 warm-up",
        "",
        "| measurement | build | added latency | median ms | records per second | runs (ms) | ratio to the floor |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for (label, latency), runs in sorted(times.items(), key=lambda kv: (kv[0][1], kv[0][0] == POUCH_LABEL)):
        med = statistics.median(runs)
        what = (f"PouchDB `replicate` from pouchdb-server (memory), `{adapter}` adapter" if label == POUCH_LABEL
                else "PWA first sync (sign in → checksums verified)")
        lines.append(f"| {what} | {label} | {latency} ms | {med:,.0f} | "
                     f"{args.records / med * 1000:,.0f} | {', '.join(f'{x:.0f}' for x in runs)} | {med / base_floor:.2f}× |")
    lines.append(f"| floor: IndexedDB `put`, one transaction per {args.page} rows | — | — | {base_floor:,.0f} | "
                 f"{args.records / base_floor * 1000:,.0f} | {', '.join(f'{x:.0f}' for x in floor)} | 1.00× |")
    if args.pouch:
        for latency in latencies:
            ours, theirs = times[("this checkout", latency)], times[(POUCH_LABEL, latency)]
            lines.append(f"\nAt {latency} ms added latency PouchDB takes "
                         f"{statistics.median(theirs) / statistics.median(ours):.2f}× the time of this checkout's PWA.")
    if args.ab:
        for latency in latencies:
            a, b = times[("this checkout", latency)], times[("--ab build", latency)]
            lines.append(f"\nAt {latency} ms added latency this checkout takes "
                         f"{statistics.median(a) / statistics.median(b):.2f}× the time of the `--ab` build.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", type=int, default=500, help="the pull page size of the PWA (its default)")
    parser.add_argument("--latency", default="0,100,300", help="comma list of added latencies in ms (default 0,100,300)")
    parser.add_argument("--ab", help="another PWA build directory to alternate with this checkout's pwa/dist")
    parser.add_argument("--no-pouch", dest="pouch", action="store_false",
                        help="leave out PouchDB in the browser (needs bench/peers installed: npm ci there)")
    parser.add_argument("--quick", action="store_true", help="1,000 records, 1 run: a smoke test")
    parser.add_argument("--append", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.runs = 1_000, 1
    if args.pouch and not POUCH_JS.is_file():
        raise SystemExit(f"no {POUCH_JS} (cd bench/peers && npm ci), or pass --no-pouch")
    text = run(args)
    print("\n" + text)
    if args.append:
        with DOC.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

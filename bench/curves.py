"""Scale curves: how the initial sync and the many-devices load grow with size, with the
peers and the floor measured at every size of the same run.

    .venv/bin/python -m bench.curves [--quick] [--append] [--no-postgres]

1. **Initial sync by bucket size** (1,000 to 100,000 records, pages of 500), each a
   chain of plain HTTP pages as in ``bench.run``:
   - Revisit's ``/api/sync/pull`` on SQLite (WAL) and on PostgreSQL: one database each,
     one rep per size, one ``revisit serve``;
   - the floor: the same rows of the SQLite database read in seq order and encoded with
     msgspec (``bench.floor``);
   - pouchdb-server ``--in-memory``, ``_changes?include_docs``: one database per size;
   - rxdb-server on memory storage, ``/pull``: a server per size, seeded in-process.
   Median of 3 runs after a warm-up (2 above 10,000 records). Printed per size: ms, µs per
   record, and Revisit's ratios against the others at that size (the targets of
   ``bench.run`` at 10,000 records, here at every size).
2. **Many devices by number of reps** on SQLite: 50 to 400 reps (each its own bucket of
   100 records over 20 customers) looping log-a-visit → push → pull → verify for 20 s,
   think time 1 s, in two driver processes (``bench.load``): requests per second and
   p50/p95/p99 latency.

With ``--append`` the tables go to the end of docs/benchmarks.md with the command, commit
and machine, and the chart of 1 (log-log) to docs/benchmarks-curves.svg.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path

import httpx

from bench import data, peers
from bench import revisit as rv
from bench.common import DOC, ROOT, Timing, git_commit, machine_facts, measure, scratch_dir, utc_now
from bench.floor import read_floor
from bench.load import LoadResult, run_load

SVG = ROOT / "docs" / "benchmarks-curves.svg"
PAGE = 500
REVISIT_SQLITE, REVISIT_PG = "Revisit (SQLite WAL)", "Revisit (PostgreSQL)"
FLOOR, POUCH, RXDB = "floor: SQLite + msgspec", "pouchdb-server (memory)", "rxdb-server (memory)"

Curve = dict[str, dict[int, Timing]]  # system -> size -> timing


def _runs(size: int) -> int:
    return 3 if size <= 10_000 else 2


async def _revisit(kind: str, sizes: list[int], work: Path, curve: Curve) -> None:
    database = rv.new_database(kind, work, f"curves{kind}")
    system = REVISIT_SQLITE if kind == "sqlite" else REVISIT_PG
    try:
        await rv.open_db(database, work)
        reps = await rv.make_reps(len(sizes), "Bench Curves", "curve")
        for who, size in zip(reps, sizes, strict=True):
            await rv.seed_bucket(database, who[0], who[2], size)
        await rv.analyze(database)
        await rv.close_db()
        server = rv.RevisitServer(database, work, f"curves-{kind}")
        try:
            async with rv.http_client(server.base) as client:
                for who, size in zip(reps, sizes, strict=True):
                    token = await rv.login(client, who[1])

                    async def pull(token: str = token, size: int = size) -> None:
                        n, _, _ = await rv.plain_pull(client, token, PAGE)
                        if n < size:
                            raise RuntimeError(f"{system}: {n} rows pulled, expected {size}")

                    curve.setdefault(system, {})[size] = t = await measure(pull, _runs(size))
                    print(f"  {system:<26} {size:>9,} records {t.median:>10.1f} ms", flush=True)
                    if database.path is not None:
                        curve.setdefault(FLOOR, {})[size] = t = await asyncio.to_thread(
                            read_floor, database.path, who[0], _runs(size))
                        print(f"  {FLOOR:<26} {size:>9,} records {t.median:>10.1f} ms", flush=True)
        finally:
            server.stop()
    finally:
        database.drop()


async def _pouch(sizes: list[int], work: Path, curve: Curve) -> None:
    srv = peers.PouchServer(work / "pouch", in_memory=True)
    try:
        async with httpx.AsyncClient(timeout=600) as client:
            for size in sizes:
                db = f"curve{size}"
                srv.create_db(db)
                srv.seed(db, data.records(size, data.PEER_REP))

                async def pull(db: str = db, size: int = size) -> None:
                    n, _, _ = await peers.pouch_changes_pull(client, srv.db_url(db), PAGE)
                    if n != size:
                        raise RuntimeError(f"{POUCH}: {n} docs, expected {size}")

                curve.setdefault(POUCH, {})[size] = t = await measure(pull, _runs(size))
                print(f"  {POUCH:<26} {size:>9,} records {t.median:>10.1f} ms", flush=True)
                await client.delete(srv.db_url(db))
    finally:
        srv.stop()


async def _rxdb(sizes: list[int], work: Path, curve: Curve) -> None:
    async with httpx.AsyncClient(timeout=600) as client:
        for size in sizes:
            seed = work / f"rxdb{size}.ndjson"
            data.write_ndjson(seed, data.records(size, data.PEER_REP))
            srv = peers.RxdbServer(seed)
            try:
                async def pull(srv: peers.RxdbServer = srv, size: int = size) -> None:
                    n, _, _ = await peers.rxdb_http_pull(client, srv.url, PAGE)
                    if n != size:
                        raise RuntimeError(f"{RXDB}: {n} docs, expected {size}")

                curve.setdefault(RXDB, {})[size] = t = await measure(pull, _runs(size))
                print(f"  {RXDB:<26} {size:>9,} records {t.median:>10.1f} ms", flush=True)
            finally:
                srv.stop()


async def _load(counts: list[int], seconds: float, work: Path) -> list[LoadResult]:
    database = rv.new_database("sqlite", work, "curvesload")
    out: list[LoadResult] = []
    try:
        await rv.open_db(database, work)
        reps = await rv.make_reps(max(counts), "Bench Curves Load", "cload")
        for who in reps:
            await rv.seed_bucket(database, who[0], who[2], 100, customers=20)
        await rv.analyze(database)
        await rv.close_db()
        server = rv.RevisitServer(database, work, "curves-load")
        try:
            for n in counts:
                result = await run_load(server.base, reps[:n], 20, seconds, 1.0, server.proc.proc.pid, 2)
                out.append(result)
                print(f"  {n} reps: {result.rps:,.0f} req/s, p50 {result.p50:.0f} / p95 {result.p95:.0f} / "
                      f"p99 {result.p99:.0f} ms, errors {result.errors}", flush=True)
        finally:
            server.stop()
    finally:
        database.drop()
    return out


def svg_chart(curve: Curve, title: str) -> str:
    """A log-log line chart of ms by records, one line per system (plain SVG, no library)."""
    width, height, left, right, top, bottom = 720, 420, 70, 200, 40, 50
    points = [(n, t.median) for series in curve.values() for n, t in series.items()]
    x0, x1 = math.log10(min(n for n, _ in points)), math.log10(max(n for n, _ in points))
    y0, y1 = math.floor(math.log10(min(ms for _, ms in points))), math.ceil(math.log10(max(ms for _, ms in points)))

    def x(n: float) -> float:
        return left + (math.log10(n) - x0) / ((x1 - x0) or 1) * (width - left - right)

    def y(ms: float) -> float:
        return height - bottom - (math.log10(ms) - y0) / ((y1 - y0) or 1) * (height - top - bottom)

    colours = ["#1f6feb", "#8250df", "#57606a", "#cf222e", "#bf8700", "#1a7f37"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">{title}</text>']
    for e in range(y0, y1 + 1):  # a grid line per power of ten of ms
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(10**e):.1f}" y2="{y(10**e):.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 8}" y="{y(10**e) + 4:.1f}" text-anchor="end">{10**e:,} ms</text>')
    for n in sorted({n for n, _ in points}):
        out.append(f'<line x1="{x(n):.1f}" x2="{x(n):.1f}" y1="{top}" y2="{height - bottom}" stroke="#eee"/>'
                   f'<text x="{x(n):.1f}" y="{height - bottom + 18}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{height - 10}" text-anchor="middle">records in the bucket</text>')
    for i, (system, series) in enumerate(curve.items()):
        colour = colours[i % len(colours)]
        path = " ".join(f"{x(n):.1f},{y(t.median):.1f}" for n, t in sorted(series.items()))
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{x(n):.1f}" cy="{y(t.median):.1f}" r="3" fill="{colour}"/>' for n, t in series.items()]
        out.append(f'<line x1="{width - right + 15}" x2="{width - right + 35}" y1="{top + 20 * i + 6}" '
                   f'y2="{top + 20 * i + 6}" stroke="{colour}" stroke-width="2"/>'
                   f'<text x="{width - right + 40}" y="{top + 20 * i + 10}">{system}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def markdown(curve: Curve, loads: list[LoadResult], args: argparse.Namespace, started: str) -> str:
    facts = machine_facts()
    sizes = sorted({n for series in curve.values() for n in series})
    lines = [
        f"## {started} — scale curves",
        "",
        f"- command: `.venv/bin/python -m bench.curves {' '.join(sys.argv[1:])}`".rstrip(),
        f"- git commit: `{git_commit()}`",
        f"- machine: {facts['cores']} cores ({facts['cpu']}), {facts['ram']} RAM; load average at start {facts['load']}",
        f"- initial sync: plain HTTP pages of {PAGE}, median of 3 runs after 1 warm-up (2 above 10,000 records); "
        "the chart is docs/benchmarks-curves.svg",
        "",
        "Initial sync by bucket size, median ms (µs per record):",
        "",
        "| system | " + " | ".join(f"{n:,}" for n in sizes) + " |",
        "| --- | " + " | ".join("---:" for _ in sizes) + " |",
    ]
    for system, series in curve.items():
        cells = [f"{series[n].median:,.1f} ({1000 * series[n].median / n:.1f})" if n in series else "—" for n in sizes]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    ratios = [(f"{POUCH} / {REVISIT_SQLITE} (target ≥ 4)", POUCH, REVISIT_SQLITE),
              (f"{RXDB} / {REVISIT_SQLITE} (target ≥ 1)", RXDB, REVISIT_SQLITE),
              (f"{REVISIT_SQLITE} / floor (target ≤ 4)", REVISIT_SQLITE, FLOOR),
              (f"{POUCH} / {REVISIT_PG} (target ≥ 4)", POUCH, REVISIT_PG),
              (f"{RXDB} / {REVISIT_PG} (target ≥ 1)", RXDB, REVISIT_PG)]
    lines += ["", "The same as ratios at each size:", "",
              "| ratio | " + " | ".join(f"{n:,}" for n in sizes) + " |",
              "| --- | " + " | ".join("---:" for _ in sizes) + " |"]
    for label, a, b in ratios:
        if a in curve and b in curve:
            cells = [f"{curve[a][n].median / curve[b][n].median:.2f}×" if n in curve[a] and n in curve[b] else "—"
                     for n in sizes]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if loads:
        lines += ["", f"Many devices on SQLite by number of reps ({args.load_seconds:g} s each, think time 1 s, "
                  "two driver processes):", "",
                  "| reps | req/s | sync cycles | p50 ms | p95 ms | p99 ms | max ms | errors | non-200 | server CPU |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {ld.reps} | {ld.rps:,.0f} | {ld.cycles:,} | {ld.p50:.0f} | {ld.p95:.0f} | {ld.p99:.0f} | "
                  f"{ld.max:.0f} | {ld.errors} | {ld.non200} | {ld.server_cpu:.0%} |" for ld in loads]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> tuple[Curve, list[LoadResult]]:
    curve: Curve = {}
    with scratch_dir("curves") as work:
        print("initial sync by bucket size", flush=True)
        await _revisit("sqlite", args.sizes, work, curve)
        if args.postgres:
            await _revisit("postgres", args.sizes, work, curve)
        await _pouch(args.sizes, work, curve)
        await _rxdb(args.sizes, work, curve)
        print("many devices by number of reps", flush=True)
        loads = await _load(args.reps, args.load_seconds, work)
    return curve, loads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.curves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and a few seconds of load: a smoke test")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false", help="leave out Revisit on PostgreSQL")
    parser.add_argument("--append", action="store_true",
                        help="append the tables to docs/benchmarks.md and write docs/benchmarks-curves.svg")
    args = parser.parse_args(argv)
    args.sizes = [500, 2_000, 5_000] if args.quick else [1_000, 3_000, 10_000, 30_000, 100_000]
    args.reps = [20, 50] if args.quick else [50, 100, 200, 400]
    args.load_seconds = 3.0 if args.quick else 20.0
    started = utc_now()
    curve, loads = asyncio.run(run(args))
    text = markdown(curve, loads, args, started)
    print("\n" + text)
    if args.append:
        with DOC.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
        SVG.write_text(svg_chart(curve, f"Initial sync by bucket size, HTTP pages of {PAGE} ({started})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

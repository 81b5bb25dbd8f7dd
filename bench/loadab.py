"""The many-devices load against two checkouts' servers, alternated on one database.

    .venv/bin/python -m bench.loadab ../other-checkout [--db postgres] [--rounds 3] [--seconds 30]

For a change too small to see between two full runs: one database is seeded once (200
reps with their buckets, and filler rows of other reps), then ``revisit serve`` of this
checkout and of the other one take turns on it, a fresh process each window, in the
order A B, B A, A B, ... Each window is ``bench.load.run_load`` as in ``make bench`` (the
devices in two driver processes, think time 1 s). Prints each window's figures and the
median p99 of each checkout. Not a test, and it writes nothing to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

from bench import revisit as rv
from bench.common import ROOT, scratch_dir
from bench.load import run_load


async def _main(args: argparse.Namespace, work: Path, checkouts: list[Path]) -> None:
    database = rv.new_database(args.db, work, "loadab")
    try:
        await rv.open_db(database, work)
        reps = await rv.make_reps(args.reps, "Bench South", "load")
        for r in reps:
            await rv.seed_bucket(database, r[0], r[2], 100, customers=20)
        await rv.seed_fillers(database, args.fillers)
        await rv.analyze(database)
        await rv.close_db()
        p99: dict[Path, list[float]] = {c: [] for c in checkouts}
        for k in range(args.rounds):
            for code in checkouts if k % 2 == 0 else checkouts[::-1]:
                server = rv.RevisitServer(database, work, "loadab", code=code)
                try:
                    r = await run_load(server.base, reps, 20, args.seconds, 1.0, server.proc.proc.pid, 2)
                finally:
                    server.stop()
                push = r.by_endpoint.get("push", {})
                p99[code].append(r.p99)
                print(f"{code}: {r.rps:.0f} req/s, p50 {r.p50:.0f} / p95 {r.p95:.0f} / p99 {r.p99:.0f} ms, "
                      f"push p50 {push.get('p50', 0):.0f} / p99 {push.get('p99', 0):.0f} ms, "
                      f"errors {r.errors} (non-200 {r.non200}), server CPU {r.server_cpu:.0%}", flush=True)
        for code, values in p99.items():
            print(f"{code}: p99 {', '.join(f'{v:.0f}' for v in values)} ms, median {statistics.median(values):.0f} ms")
    finally:
        database.drop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.loadab")
    parser.add_argument("other", help="the other checkout (its server/ and sync/ are served)")
    parser.add_argument("--db", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--rounds", type=int, default=3, help="windows of each checkout")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of a window")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--fillers", type=int, default=200_000, help="rows of other reps in the database")
    args = parser.parse_args()
    with scratch_dir("loadab") as work:
        asyncio.run(_main(args, Path(work), [ROOT, Path(args.other).resolve()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

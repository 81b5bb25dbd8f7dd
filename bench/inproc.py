"""A push in process, without HTTP: 1,000 creates and 1,000 updates through the engine,
for changes too small to see through the full run's noise.

    .venv/bin/python -m bench.inproc                        # this checkout, SQLite
    .venv/bin/python -m bench.inproc --ab ../other          # interleaved with another checkout
    .venv/bin/python -m bench.inproc --profile updates      # cProfile of the updates only

The device is ``sync.client.Device`` with ``sync.transport.handle`` as its transport:
the engine's push and pull with the request parsing and error answers, no HTTP. One
seeded SQLite database (a rep with 1,000 customers, and ``--rows`` rows of other reps) is
copied for every run, so each checkout starts from the same file. A round: the device pulls, then pushes 1,000 new
visits in pushes of 100 (each closes and makes plans through the cadence) and then a new
phone number for each of the 1,000 customers. Prints the median of the rounds after the
first: wall time, and the process's CPU time (server and device in one process; less
moved by other work on the machine than the wall time, which waits for the disk too). Every run is a child process that imports ``server`` and ``sync`` from its
checkout; ``--ab`` alternates the two checkouts, ``--pairs`` times each.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

from bench.common import ROOT, VENV_BIN, scratch_dir

USER = "inproc0000"


async def _seed(path: Path, rows: int) -> None:
    from bench import revisit as rv

    database = rv.Database("sqlite", f"sqlite:///{path}", path=path)
    await rv.open_db(database, path.parent)
    who = (await rv.make_reps(1, "Bench North", "inproc"))[0]
    await rv.seed_bucket(database, who[0], who[2], 1000, customers=1000)
    await rv.seed_fillers(database, rows)
    await rv.close_db()


async def _rounds(path: Path, rounds: int, profile: str | None) -> tuple[dict[str, list[float]], Any]:
    from bench import data
    from bench import revisit as rv
    from server.sync.service import get_engine
    from server.tables import User
    from sync.actor import Actor
    from sync.transport import handle

    database = rv.Database("sqlite", f"sqlite:///{path}", path=path)
    await rv.open_db(database, path.parent)
    user = (await User.select(User.id, User.region_id).where(User.username == USER))[0]
    engine = get_engine()
    actor = Actor(user["id"], "rep", user["region_id"])
    who = str(user["id"])

    class InProcess:  # the device names its user by username; the engine needs the Actor
        async def call(self, device: Any, endpoint: str, body: bytes) -> tuple[int, bytes]:
            return await handle(engine, actor, endpoint, body)

    transport = InProcess()
    prof = cProfile.Profile() if profile else None
    times: dict[str, list[float]] = {"creates": [], "updates": [], "creates_cpu": [], "updates_cpu": []}
    for run in range(rounds + 1):
        device = rv.new_device(USER)
        await device.pull(transport)  # not timed: the device knows the customers and their clocks
        rv.visit_creates(device, data.records(1000, who, 1000, f"inproc-{uuid.uuid4()}"))
        for part in ("creates", "updates"):
            if part == "updates":
                for j in range(1000):
                    device.put("customers", data.customer_id(who, j), {"phone": f"+86 139 {run:02d}{j:06d}"})
            on = prof is not None and run > 0 and profile in (part, "both")
            if on:
                prof.enable()  # type: ignore[union-attr]
            t0, c0 = time.perf_counter(), time.process_time()
            await rv.push_batches(device, transport, 100)
            elapsed, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            if on:
                prof.disable()  # type: ignore[union-attr]
            if run > 0:  # the first round warms up
                times[part].append(elapsed)
                times[f"{part}_cpu"].append(cpu)
    await engine.settle()
    await rv.close_db()
    return times, prof


def _child(args: argparse.Namespace) -> None:
    """One checkout's rounds on a copy of the seeded file; prints one JSON line. ``server``
    and ``sync`` (not yet imported) come from ``--code``; ``bench`` stays this one."""
    sys.path.insert(0, args.code)
    import server

    assert Path(server.__file__).resolve().is_relative_to(Path(args.code).resolve()), server.__file__
    times, prof = asyncio.run(_rounds(Path(args.db), args.rounds, args.profile))
    print(msgspec.json.encode(times).decode(), flush=True)
    if prof is not None:
        pstats.Stats(prof, stream=sys.stderr).sort_stats(args.sort).print_stats(args.top)


def _run(checkout: Path, seed: Path, work: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    db = work / "run.db"
    shutil.copy(seed, db)
    argv = [str(VENV_BIN / "python"), "-m", "bench.inproc", "--child", "--code", str(checkout), "--db", str(db),
            "--rounds", str(args.rounds), "--sort", args.sort, "--top", str(args.top)]
    if args.profile:
        argv += ["--profile", args.profile]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    result: dict[str, list[float]] = msgspec.json.decode(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="rows of other reps in the database")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per run (after one warm-up round)")
    parser.add_argument("--ab", type=Path, help="another checkout to alternate with this one")
    parser.add_argument("--pairs", type=int, default=3, help="runs of each checkout with --ab")
    parser.add_argument("--profile", choices=("creates", "updates", "both"), help="cProfile those pushes")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    checkouts = [ROOT] + ([args.ab.resolve()] if args.ab else [])
    with scratch_dir("inproc") as work:
        seed = work / "seed.db"
        asyncio.run(_seed(seed, args.rows))
        for i in range(args.pairs if args.ab else 1):
            for checkout in checkouts if i % 2 == 0 else checkouts[::-1]:
                r = _run(checkout, seed, work, args)
                print(f"{checkout}: " + "; ".join(
                    f"1,000 {part} {statistics.median(r[part]):.0f} ms ({', '.join(f'{x:.0f}' for x in r[part])}), "
                    f"CPU {statistics.median(r[part + '_cpu']):.0f} ms" for part in ("creates", "updates")), flush=True)


if __name__ == "__main__":
    main()

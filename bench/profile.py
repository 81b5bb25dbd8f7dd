"""Where the server's time goes: py-spy samples a real ``revisit serve`` during a push and a pull.

    .venv/bin/python -m bench.profile [--db sqlite|postgres] [--records 10000]

Scenarios (``--only a,b`` picks some): ``push`` (1,000 creates in batches of 100), ``pull`` (the initial sync of the
whole bucket in pages of 500), ``pull-small`` (the pushing device pulls its creates back,
and any plans they made, 5 per page: small requests that each move its position) and
``pull-empty`` (200 pulls of the same device, now up to date) and ``cycle`` (the load test's
loop for one rep: log a visit, push, pull, verify). Prints, per scenario, the
server's CPU time (also per request) and the functions with the most samples (inclusive,
our code and the libraries); the collapsed stacks are kept in /tmp for flame graphs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
import uuid
from pathlib import Path

import msgspec

from bench import data
from bench import revisit as rv
from bench.common import VENV_BIN, cpu_seconds, now_ms, scratch_dir


def summarize(raw: Path, top: int = 25) -> list[str]:
    """Inclusive sample share per function from py-spy's collapsed ("raw") output."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        n = int(count_text)
        total += n
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/site-packages/")[-1].split("/main/")[-1] + ")"
                  for f in stack.split(";") if f]
        for f in set(frames):
            inclusive[f] += n
        if frames:
            own[frames[-1]] += n
    lines = [f"{total} samples; inclusive share (top {top}):"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(top)]
    lines += [f"self share (top {top // 2}):"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top // 2)]
    return lines


SMALL = 200  # requests of the small-pull scenarios
WHAT = {
    "push": "1,000 creates in batches of 100",
    "pull": "{records:,} records, pages of 500",
    "pull-small": f"the pushed creates back, {1000 // SMALL} per page; each page moves the position",
    "pull-empty": f"{SMALL} pulls of an up-to-date device",
    "cycle": f"{SMALL // 2} sync cycles of the load test: log a visit, push, pull, verify",
}


async def scenario(kind: str, records: int, work: Path, names: list[str], native: bool = False, rate: int = 250) -> None:
    database = rv.new_database(kind, work, "profile")
    try:
        await rv.open_db(database, work)
        pull_rep = (await rv.make_reps(1, "Profile", "pull"))[0]
        push_rep = (await rv.make_reps(1, "Profile", "push"))[0]
        await rv.seed_bucket(database, pull_rep[0], pull_rep[2], records)
        await rv.seed_bucket(database, push_rep[0], push_rep[2], 1000, customers=1000)
        await rv.analyze(database)
        await rv.close_db()
        server = rv.RevisitServer(database, work, "profile")
        try:
            async with rv.http_client(server.base) as client:
                devices = {}
                for who in (push_rep, pull_rep):
                    devices[who[0]] = (rv.new_device(who[1]), rv.HttpTransport(client, await rv.login(client, who[1])))
                for name in names:
                    who = pull_rep if name == "pull" else push_rep
                    dev, tr = devices[who[0]]
                    if name in ("push", "cycle") and dev.cursor is None:
                        await dev.pull(tr)
                    if name == "pull-empty":  # up to date first, whatever ran before (not timed)
                        await dev.pull(tr)
                    if name == "push":
                        rv.visit_creates(dev, data.records(1000, who[0], 1000, f"prof-{uuid.uuid4()}"))
                    out = work / f"{name}.txt"
                    spy = subprocess.Popen([str(VENV_BIN / "py-spy"), "record", "--pid", str(server.proc.proc.pid),  # noqa: ASYNC220 (started once, before the timed part)
                                            "--rate", str(rate), "--format", "raw", "--output", str(out),
                                            *(["--native"] if native else ["--nonblocking"])],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    await asyncio.sleep(1.5)
                    cpu0 = cpu_seconds(server.proc.proc.pid)
                    calls = tr.requests
                    t0 = now_ms()
                    if name == "push":
                        await rv.push_batches(dev, tr, 100)
                    elif name == "pull":
                        await dev.pull(tr)
                        rv.check_device(dev, records)
                    elif name == "cycle":
                        for k in range(SMALL // 2):
                            rv.visit_creates(dev, data.records(1, who[0], 1000, f"cycle-{k}-{uuid.uuid4()}"))
                            await dev.push(tr)
                            await dev.pull(tr)
                            rv.check_device(dev)
                    elif name == "pull-small":  # the pushed visits (and any plans they made) come back 5 per page
                        await dev.pull(tr, limit=1000 // SMALL)
                        rv.check_device(dev)
                    else:  # the requests of ``Device.pull`` without its replica work (checksums over every row)
                        for _ in range(SMALL):
                            body = {"protocol": 1, "client_id": dev.client_id, "clock": dev.clock.tick(dev.now_ms()),
                                    "cursor": dev.cursor, "limit": 500}
                            status, raw = await tr.call(dev, "pull", msgspec.json.encode(body))
                            resp = msgspec.json.decode(raw)
                            if status != 200 or resp["changes"] or resp["more"]:
                                raise RuntimeError(f"pull of an up-to-date device: {status} {raw[:300]!r}")
                    ms = now_ms() - t0
                    cpu = cpu_seconds(server.proc.proc.pid) - cpu0
                    spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
                    spy.wait(timeout=60)
                    n = tr.requests - calls
                    print(f"\n== {kind}: {name} ({WHAT[name].format(records=records)}) took {ms:.0f} ms; "
                          f"server CPU {1000 * cpu:.0f} ms; {n} requests, {ms / n:.1f} ms wall and "
                          f"{1000 * cpu / n:.2f} ms server CPU per request; load average {os.getloadavg()[0]:.1f}")
                    if out.exists():
                        print("\n".join(summarize(out)))
                        keep = Path("/tmp") / f"revisit-profile-{kind}-{name}.txt"
                        keep.write_text(out.read_text())
                        print(f"(collapsed stacks kept in {keep})")
                    else:
                        print("py-spy wrote nothing:", spy.stderr.read().decode() if spy.stderr else "")
        finally:
            server.stop()
    finally:
        database.drop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.profile")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--only", default=",".join(WHAT), help=f"comma list of scenarios, in order (default {','.join(WHAT)})")
    parser.add_argument("--native", action="store_true", help="also sample C frames (SQLite, asyncpg); pauses the server per sample")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    args = parser.parse_args()
    names = args.only.split(",")
    if unknown := set(names) - set(WHAT):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    with scratch_dir("profile") as work:
        asyncio.run(scenario(args.db, args.records, work, names, args.native, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the server's time goes: py-spy samples a real ``revisit serve`` during a push and a pull.

    .venv/bin/python -m bench.profile [--db sqlite|postgres] [--records 10000]

Prints, per scenario, the functions with the most samples (inclusive, our code and the
libraries), and keeps the collapsed stacks in the scratch folder for flame graphs.
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

from bench import data
from bench import revisit as rv
from bench.common import VENV_BIN, now_ms, scratch_dir


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) the process has used: less at the mercy of
    other work on the machine than wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def scenario(kind: str, records: int, work: Path) -> None:
    database = rv.new_database(kind, work, "profile")
    try:
        await rv.open_db(database, work)
        pull_rep = (await rv.make_reps(1, "Profile", "pull"))[0]
        push_rep = (await rv.make_reps(1, "Profile", "push"))[0]
        await rv.seed_bucket(database, pull_rep[0], pull_rep[2], records)
        await rv.seed_bucket(database, push_rep[0], push_rep[2], 1000, customers=1000)
        await rv.close_db()
        server = rv.RevisitServer(database, work, "profile")
        try:
            async with rv.http_client(server.base) as client:
                for name in ("push", "pull"):
                    who = push_rep if name == "push" else pull_rep
                    token = await rv.login(client, who[1])
                    tr = rv.HttpTransport(client, token)
                    dev = rv.new_device(who[1])
                    if name == "push":
                        await dev.pull(tr)
                        rv.visit_creates(dev, data.records(1000, who[0], 1000, f"prof-{uuid.uuid4()}"))
                    out = work / f"{name}.txt"
                    spy = subprocess.Popen([str(VENV_BIN / "py-spy"), "record", "--pid", str(server.proc.proc.pid),  # noqa: ASYNC220 (started once, before the timed part)
                                            "--rate", "250", "--format", "raw", "--output", str(out), "--nonblocking"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    await asyncio.sleep(1.5)
                    cpu0 = cpu_seconds(server.proc.proc.pid)
                    t0 = now_ms()
                    if name == "push":
                        await rv.push_batches(dev, tr, 100)
                    else:
                        await dev.pull(tr)
                        rv.check_device(dev, records)
                    ms = now_ms() - t0
                    cpu = cpu_seconds(server.proc.proc.pid) - cpu0
                    spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
                    spy.wait(timeout=60)
                    print(f"\n== {kind}: {name} ({'1,000 creates in batches of 100' if name == 'push' else f'{records:,} records'}) took {ms:.0f} ms; "
                          f"server CPU {1000 * cpu:.0f} ms; load average {os.getloadavg()[0]:.1f}")
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
    args = parser.parse_args()
    with scratch_dir("profile") as work:
        asyncio.run(scenario(args.db, args.records, work))
    return 0


if __name__ == "__main__":
    sys.exit(main())

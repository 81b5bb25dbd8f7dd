"""Reminder benchmarks (issue 5): the due-reminder query over 1,000,000 planned revisits,
and pushes per second through the sender against the local push service.

    .venv/bin/python -m bench.reminders [--rows 1000000] [--postgres] [--sends 1000]

Not a test: it prints figures (medians of several runs after a warm-up) and the query
plan, so one can see the due-window query uses the index
``planned_revisits_status_due (status, due_date)`` rather than scanning the table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 3, 9)
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
CUSTOMERS = 20_000


def _rows(n: int, customers: list[str], rep: str, region: str) -> Any:
    rng = random.Random(5)
    for i in range(n):
        due = TODAY + timedelta(days=rng.randint(-700, 60))
        # history: most plans are done; open ones are around today (like a live system)
        status = "planned" if due >= TODAY - timedelta(days=30) and rng.random() < 0.5 else "done"
        yield (str(uuid.UUID(int=rng.getrandbits(128))), customers[i % len(customers)], rep, rep, region,
               due.isoformat(), "cadence", status, "2026-01-01 00:00:00+00:00", i + 1, "{}", 0)


async def fill(settings: Any, n: int) -> None:
    from server.tables import Customer

    rep, region = str(uuid.uuid4()), str(uuid.uuid4())
    customers = [str(uuid.uuid4()) for _ in range(CUSTOMERS)]
    cols = "id, customer_id, rep_id, owner_id, region_id, due_date, source, status, created_at, seq, clocks, deleted"
    for start in range(0, CUSTOMERS, 1000):
        await Customer.insert(*[Customer(id=uuid.UUID(c), name=f"c{c[:6]}", tier="A", owner_id=uuid.UUID(rep),
                                         region_id=uuid.UUID(region)) for c in customers[start:start + 1000]])
    if settings.is_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        try:
            records = [(uuid.UUID(r[0]), uuid.UUID(r[1]), uuid.UUID(r[2]), uuid.UUID(r[3]), uuid.UUID(r[4]),
                        date.fromisoformat(r[5]), r[6], r[7], datetime(2026, 1, 1, tzinfo=UTC), r[9], r[10],
                        bool(r[11])) for r in _rows(n, customers, rep, region)]
            await conn.copy_records_to_table("planned_revisits", records=records,
                                             columns=[c.strip() for c in cols.split(",")])
            await conn.execute("ANALYZE planned_revisits")
        finally:
            await conn.close()
    else:
        con = sqlite3.connect(settings.sqlite_path)
        with con:
            con.executemany(f"INSERT INTO planned_revisits ({cols}) VALUES ({', '.join('?' * 12)})",
                            _rows(n, customers, rep, region))
        con.execute("ANALYZE")
        con.close()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def query_bench(settings: Any) -> None:
    from server.scheduler import reminders
    from server.tables import NotificationLog

    lo, hi = TODAY - timedelta(days=2), TODAY + timedelta(days=3)
    sql = reminders._OPEN_PLANS
    if settings.is_postgres:
        plan = await NotificationLog.raw("EXPLAIN " + sql, False, lo, hi)
        lines = [r["QUERY PLAN"] for r in plan]
    else:
        plan = await NotificationLog.raw("EXPLAIN QUERY PLAN " + sql, False, lo, hi)
        lines = [r["detail"] for r in plan]
    print("query plan of the due-window query:")
    for line in lines:
        print("   ", line)
    print("uses planned_revisits_status_due:", any("planned_revisits_status_due" in x for x in lines))
    samples = []
    rows: list[Any] = []
    for i in range(8):
        t0 = time.perf_counter()
        rows = await reminders.open_plans(lo, hi)
        if i >= 2:
            samples.append(time.perf_counter() - t0)
    print(f"due window ({lo}..{hi}): {len(rows)} open plans, median {median_ms(samples):.1f} ms")
    samples = []
    for i in range(5):
        t0 = time.perf_counter()
        report = await reminders.plan_due(NOW)
        if i >= 1:
            samples.append(time.perf_counter() - t0)
    print(f"plan_due sweep (no recipients, {report.pending} new rows): median {median_ms(samples):.1f} ms")


async def send_bench(sends: int) -> None:
    from server.push.payloads import reminder_payload
    from server.push.sender import PushSender
    from server.push.vapid import VapidKeys, new_private_key
    from tests.push.fake_service import FakePushService

    service = FakePushService().start()
    try:
        keys = VapidKeys(new_private_key())
        subs = [service.subscribe(keys.public_key) for _ in range(50)]
        rows = [{"endpoint": s.endpoint, "p256dh": s.p256dh, "auth": s.auth} for s in subs]
        data = reminder_payload("due", [{
            "customer_id": str(uuid.uuid4()), "customer_name": "王记茶庄 Wang's Tea", "due_date": "2026-03-10",
            "tier": "A", "planned_revisit_id": str(uuid.uuid4())}], "zh")
        async with PushSender(keys, "mailto:bench@example.com") as sender:
            await asyncio.gather(*(sender.send(r, data, topic="w", now=NOW) for r in rows))  # warm-up
            rates = []
            for _ in range(3):
                t0 = time.perf_counter()
                results = await asyncio.gather(*(sender.send(rows[i % len(rows)], data, topic="b", now=NOW)
                                                 for i in range(sends)))
                rates.append(sends / (time.perf_counter() - t0))
                assert all(r.outcome == "sent" for r in results)
        print(f"pushes: {sends} encrypted, VAPID-signed requests to the local push service "
              f"(which verifies and decrypts each): median {statistics.median(rates):.0f}/s")
    finally:
        service.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    from server import db
    from server.migrate import migrate
    from server.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="revisit-bench-"))
    if args.postgres:
        import asyncpg

        base = os.environ.get("REVISIT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = f"revisit_bench_rem_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(base)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = base.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=tmp)
    try:
        await migrate(settings)
        t0 = time.perf_counter()
        await fill(settings, args.rows)
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}: {args.rows} planned revisits "
              f"loaded in {time.perf_counter() - t0:.1f} s")
        await db.start_pool()
        try:
            await query_bench(settings)
        finally:
            await db.close_pool()
        await send_bench(args.sends)
    finally:
        if args.postgres:
            conn = await asyncpg.connect(base)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Property 8 on PostgreSQL: many writers commit concurrently (as several server
processes would) while readers pull page by page; no reader ever misses a change.

Writers hold their transactions open for random times after taking their versions, the
situation in which a plain sequence would let a reader pass a smaller version that
commits later. The counter row lock (R-CUR-1) plus the high-water mark (R-CUR-2) close
that gap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from typing import Any

import pytest

from sync.actor import Actor
from sync.engine import SyncEngine
from sync.hlc import Clock
from sync.messages import Create, PullRequest, PushRequest

pytestmark = pytest.mark.postgres

WRITERS = 8
PUSHES = 12
PER_PUSH = 3
READERS = 4


async def test_no_reader_misses_a_change(settings: Any) -> None:
    from server import db
    from server.sync.service import bulk_write
    from server.sync.store import PiccoloSyncStore

    db.configure_database(settings)
    await db.start_pool()
    try:
        region, customer = str(uuid.uuid4()), str(uuid.uuid4())
        reps = [Actor(uuid.uuid4(), "rep", uuid.UUID(region)) for _ in range(WRITERS)]
        manager = Actor(uuid.uuid4(), "manager", uuid.UUID(region))
        admin = Actor(uuid.uuid4(), "admin", None)
        rows: list[tuple[str, dict[str, Any]]] = [("regions", {"id": region, "name": "North"})]
        rows += [("users", {"id": str(a.user_id), "username": str(a.user_id), "role": a.role, "region_id": region})
                 for a in (*reps, manager)]
        await bulk_write(admin, rows)
        customers = {}
        for a in reps:
            cid = str(uuid.uuid4())
            customers[a.user_id] = cid
            await bulk_write(admin, [("customers", {"id": cid, "name": "C", "owner_id": str(a.user_id),
                                                    "region_id": region})])
        del customer

        rng = random.Random(7)

        async def slow_commit(ctx: Any, table: str, old: Any, new: Any) -> None:
            await asyncio.sleep(rng.random() * 0.02)  # hold the transaction open

        written: set[str] = set()
        done = asyncio.Event()

        async def writer(i: int, actor: Actor) -> None:
            engine = SyncEngine(PiccoloSyncStore(), hooks={"notes": [slow_commit]})  # one "process" each
            client = f"writer-{i:04d}"
            clock = Clock(client)
            n = 0
            for _ in range(PUSHES):
                muts = []
                for _ in range(PER_PUSH):
                    n += 1
                    nid = str(uuid.uuid4())
                    muts.append(Create(n, clock.tick(_ms()), "notes", nid,
                                       {"customer_id": customers[actor.user_id], "body": f"{i}/{n}"}))
                resp = await engine.push(actor, PushRequest(1, client, clock.tick(_ms()), muts))
                assert all(r.status == "applied" for r in resp.results)
                written.update(m.id for m in muts)
                await asyncio.sleep(rng.random() * 0.005)

        async def reader(j: int) -> set[str]:
            engine = SyncEngine(PiccoloSyncStore())
            client = f"reader-{j:04d}"
            clock = Clock(client)
            cursor: str | None = None
            seen: set[str] = set()
            last_v = -1
            while True:
                finished = done.is_set()
                while True:
                    resp = await engine.pull(manager, PullRequest(1, client, clock.tick(_ms()), cursor, limit=7))
                    for ch in resp.changes:
                        if ch.bucket.startswith("region:"):
                            assert ch.v > last_v, "a bucket's changes must arrive in increasing v"
                            last_v = ch.v
                        if ch.table == "notes":
                            seen.add(ch.id)
                    cursor = resp.cursor
                    if not resp.more:
                        break
                if finished:
                    return seen
                await asyncio.sleep(0)

        readers = [asyncio.create_task(reader(j)) for j in range(READERS)]
        await asyncio.gather(*(writer(i, a) for i, a in enumerate(reps)))
        done.set()
        results = await asyncio.gather(*readers)
        assert len(written) == WRITERS * PUSHES * PER_PUSH
        for seen in results:
            assert seen == written, f"a reader missed {len(written - seen)} changes"
    finally:
        await db.close_pool()


def _ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)

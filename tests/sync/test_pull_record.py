"""A pull answers without waiting for its position's record (R-PULL-6): the record is
written after the answer, and ``SyncEngine.settle`` waits for it. A record that fails is
logged and the pull it belongs to still succeeds; the next pull records again. (Waiting
for that write, a commit, was a fifth of an initial sync's time on SQLite; a position
recorded late or lost only makes compaction keep more, R-DEL-3.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import pytest

from sync.actor import Actor
from sync.engine import SyncEngine
from sync.hlc import Clock
from sync.memory import MemoryStore
from sync.messages import PullRequest

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)


class HeldStore(MemoryStore):
    """A memory store whose pull records wait until ``release`` is set, or their device's
    gate is opened (or fail)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.gates: dict[str, asyncio.Event] = {}
        self.fail = False
        self.calls = 0

    async def record_pull(self, client_id: str, user_id: str, pulled_seq: int, now: dt.datetime) -> None:
        self.calls += 1
        gate = self.gates.setdefault(client_id, asyncio.Event())
        waits = [asyncio.ensure_future(self.release.wait()), asyncio.ensure_future(gate.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        if self.fail:
            raise RuntimeError("the database is gone")
        await super().record_pull(client_id, user_id, pulled_seq, now)


async def _seeded() -> tuple[HeldStore, SyncEngine, Actor]:
    store = HeldStore()
    engine = SyncEngine(store, now=lambda: NOW)
    region = str(uuid.uuid4())
    rep = Actor(uuid.uuid4(), "rep", uuid.UUID(region))

    async def write(ctx: Any) -> None:
        await ctx.create_as_server("regions", {"id": region, "name": "East"})
        await ctx.create_as_server("customers", {"id": str(uuid.uuid4()), "name": "ACME",
                                                 "owner_id": str(rep.user_id), "region_id": region})

    await engine.run(Actor(uuid.uuid4(), "admin", None), write)
    return store, engine, rep


def _pull(client_id: str) -> PullRequest:
    return PullRequest(protocol=1, client_id=client_id, clock=Clock(client_id).tick(NOW_MS), cursor=None)


async def _recorded(store: MemoryStore, client_id: str) -> int | None:
    async with store.read() as rx:
        client = (await rx.head((), client_id)).client
    return None if client is None else client.pulled_seq


async def test_a_pull_answers_before_its_position_is_recorded_and_settle_waits_for_it() -> None:
    store, engine, rep = await _seeded()
    device = str(uuid.uuid4())
    resp = await asyncio.wait_for(engine.pull(rep, _pull(device)), timeout=10)  # not held by the record
    assert sorted(c.table for c in resp.changes) == ["customers", "regions"] and not resp.more
    assert store.calls == 1
    assert await _recorded(store, device) is None  # not yet
    settling = asyncio.ensure_future(engine.settle())
    await asyncio.sleep(0.05)
    assert not settling.done()  # waits for the record
    store.release.set()
    await asyncio.wait_for(settling, timeout=10)
    assert await _recorded(store, device) == 0  # a first pull asks from position 0


async def test_a_failed_record_is_logged_and_the_next_pull_records_again(caplog: pytest.LogCaptureFixture) -> None:
    store, engine, rep = await _seeded()
    device = str(uuid.uuid4())
    store.fail = True
    store.release.set()
    with caplog.at_level(logging.ERROR, logger="revisit.sync"):
        first = await engine.pull(rep, _pull(device))
        await engine.settle()
    assert first.changes and await _recorded(store, device) is None
    assert any("background work failed" in r.getMessage() and "the database is gone" in r.getMessage()
               for r in caplog.records)
    store.fail = False
    await engine.pull(rep, _pull(device))  # nothing recorded yet: it records again
    await engine.settle()
    assert store.calls == 2 and await _recorded(store, device) == 0


async def test_compaction_waits_for_the_records_of_pulls_answered_before_it_only() -> None:
    """Under load some record is always being written: compaction waits for those of the
    pulls answered before it started, not for later ones."""
    store, engine, rep = await _seeded()
    before, after = str(uuid.uuid4()), str(uuid.uuid4())
    await engine.pull(rep, _pull(before))  # its record is held
    compacting = asyncio.ensure_future(engine.compact())
    await asyncio.sleep(0.05)
    assert not compacting.done()  # waits for the record of the pull before it
    await engine.pull(rep, _pull(after))  # answered while compaction waits; its record stays held
    store.gates[before].set()
    await asyncio.wait_for(compacting, timeout=10)  # done, though ``after``'s record is not
    assert await _recorded(store, before) == 0
    assert await _recorded(store, after) is None
    store.gates[after].set()
    await engine.settle()
    assert await _recorded(store, after) == 0

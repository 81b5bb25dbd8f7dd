"""Read-ahead of pull pages (``sync.readahead``): a device paging through its buckets gets
exactly the pages it would get without it, never a page made before a later write, and
never a page made for another device or user."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

import pytest

from sync.actor import Actor
from sync.engine import SyncEngine
from sync.hlc import Clock
from sync.memory import MemoryStore
from sync.messages import PullRequest, PullResponse, SyncError

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)


class World:
    """One rep's bucket of visits, and an engine that reads ``read_ahead`` devices ahead."""

    def __init__(self, read_ahead: int) -> None:
        self.store = MemoryStore()
        self.engine = SyncEngine(self.store, now=lambda: NOW, read_ahead=read_ahead)
        self.region = str(uuid.uuid4())
        self.rep = Actor(uuid.uuid4(), "rep", uuid.UUID(self.region))
        self.other = Actor(uuid.uuid4(), "rep", uuid.UUID(self.region))
        self.admin = Actor(uuid.uuid4(), "admin", None)
        self.customer = str(uuid.uuid4())
        self.visits: list[str] = []
        self.clocks: dict[str, Clock] = {}

    def without_read_ahead(self) -> World:
        """The same database behind an engine that makes every page when asked."""
        plain = copy.copy(self)
        plain.engine = SyncEngine(self.store, now=lambda: NOW)
        plain.clocks = {}
        return plain

    async def seed(self, visits: int) -> None:
        async def write(ctx: Any) -> None:
            await ctx.create_as_server("regions", {"id": self.region, "name": "East"})
            for a in (self.rep, self.other):
                await ctx.create_as_server("users", {"id": str(a.user_id), "username": str(a.user_id)[:8],
                                                     "role": "rep", "region_id": self.region})
            await ctx.create_as_server("customers", {"id": self.customer, "name": "ACME",
                                                     "owner_id": str(self.rep.user_id), "region_id": self.region})
            for i in range(visits):
                vid = str(uuid.uuid4())
                self.visits.append(vid)
                await ctx.create_as_server("visits", {"id": vid, "customer_id": self.customer,
                                                      "rep_id": str(self.rep.user_id),
                                                      "owner_id": str(self.rep.user_id), "region_id": self.region,
                                                      "started_at": f"2026-11-{1 + i % 20:02d}T08:00:00Z",
                                                      "notes": f"visit {i}"})

        await self.engine.run(self.admin, write)

    async def edit(self, visit_id: str, notes: str) -> None:
        """An office edit of a visit: the row takes a new seq (R-CUR-1)."""

        async def write(ctx: Any) -> None:
            await ctx.update_as_server("visits", visit_id, {"notes": notes})

        await self.engine.run(self.admin, write)

    async def pull(self, actor: Actor, client: str, cursor: str | None, limit: int = 4) -> PullResponse:
        clock = self.clocks.setdefault(client, Clock(client))
        resp = await self.engine.pull(actor, PullRequest(1, client, clock.tick(NOW_MS), cursor, limit, "2026-11-25"))
        await self.engine.settle()  # the device handles the page; the next one is made meanwhile
        return resp

    async def pages(self, actor: Actor, client: str, cursor: str | None = None) -> list[PullResponse]:
        out = []
        while True:
            resp = await self.pull(actor, client, cursor)
            out.append(resp)
            cursor = resp.cursor
            if not resp.more:
                return out


def content(resp: PullResponse) -> tuple[Any, ...]:
    """What a device acts on (only the stamps differ between two answers to one request)."""
    changes = [(c.bucket, c.table, c.id, c.v, c.op, c.row) for c in resp.changes]
    return resp.cursor, resp.more, resp.buckets, changes, resp.checksums


async def test_paging_with_read_ahead_gives_the_same_pages_and_uses_them() -> None:
    w = World(8)
    await w.seed(30)
    got = await w.pages(w.rep, "devA_0001")
    expected = await w.without_read_ahead().pages(w.rep, "devB_0001")
    assert len(got) > 5
    assert [content(p) for p in got] == [content(p) for p in expected]
    assert w.engine.read_ahead.hits == len(got) - 1  # every page after the first was made ahead


async def test_a_write_between_pages_is_not_hidden_by_a_page_made_before_it() -> None:
    w = World(8)
    await w.seed(12)
    first = await w.pull(w.rep, "devA_0001", None)
    assert first.more  # and the next page is made
    await w.edit(w.visits[1], "edited by the office")  # a row of the page made ahead
    rest = await w.pages(w.rep, "devA_0001", first.cursor)
    assert w.engine.read_ahead.hits == len(rest) - 1  # the page made before the edit was dropped
    expected = await w.without_read_ahead().pages(w.rep, "devB_0001", first.cursor)
    assert [content(p) for p in rest] == [content(p) for p in expected]
    edits = [c.row for p in rest for c in p.changes if c.id == w.visits[1]]
    assert edits[-1]["notes"] == "edited by the office"


async def test_a_page_made_ahead_goes_only_to_its_device_and_user() -> None:
    w = World(8)
    await w.seed(12)
    first = await w.pull(w.rep, "devA_0001", None)
    # the same user's second device presenting that cursor gets a page made for it
    second = await w.pull(w.rep, "devB_0001", first.cursor)
    assert w.engine.read_ahead.hits == 0
    # another user with the first device's id is refused, whatever was kept for it
    with pytest.raises(SyncError) as err:
        await w.pull(w.other, "devA_0001", first.cursor)
    assert err.value.code == "client_mismatch"
    # another limit is another request
    smaller = await w.pull(w.rep, "devB_0001", second.cursor, limit=2)
    assert len(smaller.changes) == 2
    assert w.engine.read_ahead.hits == 0


async def test_the_pages_of_the_latest_devices_are_kept() -> None:
    w = World(2)
    await w.seed(12)
    firsts = {c: await w.pull(w.rep, c, None) for c in ("devA_0001", "devB_0001", "devC_0001")}
    for c, resp in reversed(firsts.items()):
        await w.pull(w.rep, c, resp.cursor)
    assert w.engine.read_ahead.hits == 2  # devC's and devB's; devA's page had made room for devC's

"""A push on PostgreSQL reads before it takes the counter row (``write(read_first=True)``).

It reads the client's record and the rows its mutations name, then takes the row and
checks that no other writer changed any of them since. Here another writer commits in
exactly that gap, and the push must then act on what that writer left, as if it had
waited for the row first: nothing it decides rests on a stale read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from sync.actor import Actor
from sync.engine import SyncEngine
from sync.hlc import Clock
from sync.messages import Create, FieldWrite, PushRequest, PushResponse, Put

pytestmark = pytest.mark.postgres


def _ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


class World:
    def __init__(self, rep: Actor, manager: Actor, customer: str) -> None:
        from server.planning.recompute import server_hooks
        from server.sync.store import PiccoloSyncStore

        self.rep, self.manager, self.customer = rep, manager, customer
        planning = server_hooks()  # as ``server.sync.service.get_engine``, with a count of its own
        self.engine = SyncEngine(PiccoloSyncStore(), hooks=planning.as_mapping(), prepare=[planning.prepare])


@pytest.fixture
async def world(settings: Any) -> AsyncIterator[World]:
    from server import db
    from server.sync.service import bulk_write

    db.configure_database(settings)
    await db.start_pool()
    try:
        region = str(uuid.uuid4())
        rep = Actor(uuid.uuid4(), "rep", uuid.UUID(region))
        manager = Actor(uuid.uuid4(), "manager", uuid.UUID(region))
        admin = Actor(uuid.uuid4(), "admin", None)
        customer = str(uuid.uuid4())
        await bulk_write(admin, [
            ("regions", {"id": region, "name": "North"}),
            *(("users", {"id": str(a.user_id), "username": str(a.user_id), "role": a.role, "region_id": region})
              for a in (rep, manager)),
            ("customers", {"id": customer, "name": "Old name", "phone": "111", "owner_id": str(rep.user_id),
                           "region_id": region}),
        ])
        yield World(rep, manager, customer)
    finally:
        await db.close_pool()


async def _held_at_lock(push: Awaitable[PushResponse], meanwhile: Callable[[], Awaitable[Any]],
                        monkeypatch: Any) -> PushResponse:
    """Run ``push`` until its first transaction is about to take the counter row, run
    ``meanwhile`` to its end, then let the push go on."""
    from server.sync import store

    reached, go = asyncio.Event(), asyncio.Event()
    lock = store._Writer.lock
    held: list[store._Writer] = []

    async def held_lock(self: store._Writer) -> None:
        if not held and self.first is None:
            held.append(self)
            reached.set()
            await go.wait()
        await lock(self)

    monkeypatch.setattr(store._Writer, "lock", held_lock)
    task = asyncio.ensure_future(push)
    try:
        await asyncio.wait_for(reached.wait(), 10)
        assert held[0].read_at is not None, "the push read before the counter row"
        await meanwhile()
    finally:  # the held push has a connection in a transaction: never leave it waiting
        go.set()
    return await asyncio.wait_for(task, 10)


async def _customer(world: World) -> dict[str, Any]:
    from server.sync.store import PiccoloSyncStore

    async with PiccoloSyncStore().read() as tx:
        row = await tx.get("customers", world.customer)
    assert row is not None
    return row


async def test_a_push_acts_on_a_row_written_after_it_read_it(world: World, monkeypatch: Any) -> None:
    """The rep's phone number and the manager's new name, two fields of one customer: both
    stay. Acting on its first read, the rep's push would write the old name back."""
    before = await _customer(world)
    rep_clock, manager_clock = Clock("rep-phone-0001"), Clock("mgr-tablet-001")
    for clock in (rep_clock, manager_clock):  # R-HLC-6: each device has received the row it edits
        clock.observe(before["clocks"]["name"], _ms())
    phone = Put(1, rep_clock.tick(_ms()), "customers", world.customer,
                {"phone": FieldWrite("222", before["clocks"]["phone"])})
    name = Put(1, manager_clock.tick(_ms()), "customers", world.customer,
               {"name": FieldWrite("New name", before["clocks"]["name"])})

    async def manager_renames() -> None:
        resp = await world.engine.push(world.manager, PushRequest(1, "mgr-tablet-001", manager_clock.tick(_ms()), [name]))
        assert [r.status for r in resp.results] == ["applied"]

    resp = await _held_at_lock(
        world.engine.push(world.rep, PushRequest(1, "rep-phone-0001", rep_clock.tick(_ms()), [phone])),
        manager_renames, monkeypatch)
    assert [r.status for r in resp.results] == ["applied"]
    after = await _customer(world)
    assert (after["name"], after["phone"]) == ("New name", "222")
    assert after["seq"] > before["seq"]
    assert world.engine.stale_pushes == 1


@pytest.mark.parametrize("earlier", [0, 1], ids=["first push", "later push"])
async def test_a_push_sent_again_while_the_first_is_in_flight_is_applied_once(
    world: World, monkeypatch: Any, earlier: int
) -> None:
    """A phone that gave up waiting sends the same push again; the second copy commits
    while the first waits for the counter row. The first then finds its mutations done and
    answers with the kept results (R-PUSH-5), not a second note. Only the phone's record
    tells: before its first push it has none, later its count moves."""
    from server.tables import Note

    clock = Clock("rep-phone-0002")
    for n in range(1, earlier + 1):
        done = Create(n, clock.tick(_ms()), "notes", str(uuid.uuid4()), {"customer_id": world.customer, "body": "before"})
        await world.engine.push(world.rep, PushRequest(1, "rep-phone-0002", clock.tick(_ms()), [done]))
    note = Create(earlier + 1, clock.tick(_ms()), "notes", str(uuid.uuid4()),
                  {"customer_id": world.customer, "body": "sent twice"})
    request = PushRequest(1, "rep-phone-0002", clock.tick(_ms()), [note])
    again: list[PushResponse] = []

    async def sent_again() -> None:
        again.append(await world.engine.push(world.rep, request))

    first = await _held_at_lock(world.engine.push(world.rep, request), sent_again, monkeypatch)
    assert [(r.status, r.replayed) for r in again[0].results] == [("applied", False)]
    assert [(r.status, r.replayed) for r in first.results] == [("applied", True)]
    assert first.last_n == earlier + 1
    assert await Note.count().where(Note.body == "sent twice") == 1
    assert world.engine.stale_pushes == 1


async def test_of_two_pushes_numbered_alike_the_later_committed_one_is_a_replay(
    world: World, monkeypatch: Any
) -> None:
    """Two different notes as mutation 2 of one phone (after a restore, say): the one that
    commits first takes the number, and the push that waited is answered with its result
    (R-PUSH-5). Nothing but the phone's record changed in between to tell the waiting one."""
    from server.tables import Note

    clock = Clock("rep-phone-0007")

    def note(n: int, body: str) -> PushRequest:
        m = Create(n, clock.tick(_ms()), "notes", str(uuid.uuid4()), {"customer_id": world.customer, "body": body})
        return PushRequest(1, "rep-phone-0007", clock.tick(_ms()), [m])

    await world.engine.push(world.rep, note(1, "one"))
    winner: list[PushResponse] = []

    async def other_copy() -> None:
        winner.append(await world.engine.push(world.rep, note(2, "two, committed")))

    waited = await _held_at_lock(world.engine.push(world.rep, note(2, "two, waited")), other_copy, monkeypatch)
    assert [(r.status, r.replayed) for r in winner[0].results] == [("applied", False)]
    assert [(r.status, r.replayed) for r in waited.results] == [("applied", True)]
    assert await Note.count().where(Note.body == "two, waited") == 0
    assert world.engine.stale_pushes == 1


async def test_two_visits_to_one_customer_at_once_plan_as_one_after_the_other(
    world: World, monkeypatch: Any
) -> None:
    """The cadence reads the customer's latest visit and open plans before the counter row
    is taken. A manager's later visit commits in the gap; the customer's plans must be
    those of the two pushes one after the other, as a second customer shows."""
    from server.sync.service import apply_mutations, bulk_write
    from server.tables import PlannedRevisit

    admin = Actor(uuid.uuid4(), "admin", None)
    await bulk_write(admin, [("cadence_rules", {"id": str(uuid.uuid4()), "tier": "A", "interval_days": 14})])
    busy, calm = str(uuid.uuid4()), str(uuid.uuid4())
    results = await apply_mutations(admin, [
        {"kind": "create", "table": "customers", "id": c,
         "row": {"name": c, "tier": "A", "owner_id": str(world.rep.user_id), "region_id": str(world.rep.region_id)}}
        for c in (busy, calm)])
    assert [r.status for r in results] == ["applied", "applied"]
    mine, theirs = Clock("rep-phone-0006"), Clock("mgr-tablet-002")

    def visits(customer: str) -> tuple[Create, Create]:
        return (Create(1, mine.tick(_ms()), "visits", str(uuid.uuid4()),
                       {"customer_id": customer, "started_at": "2026-11-20T09:00:00Z"}),
                Create(1, theirs.tick(_ms()), "visits", str(uuid.uuid4()),
                       {"customer_id": customer, "started_at": "2026-11-21T09:00:00Z"}))

    async def push(actor: Actor, client: str, clock: Clock, m: Create, n: int) -> None:
        m.n = n
        resp = await world.engine.push(actor, PushRequest(1, client, clock.tick(_ms()), [m]))
        assert [r.status for r in resp.results] == ["applied"]

    rep_visit, manager_visit = visits(calm)  # one after the other: the manager's first
    await push(world.manager, "mgr-tablet-002", theirs, manager_visit, 1)
    await push(world.rep, "rep-phone-0006", mine, rep_visit, 1)
    rep_visit, manager_visit = visits(busy)  # the manager's while the rep's push waits
    await _held_at_lock(push(world.rep, "rep-phone-0006", mine, rep_visit, 2),
                        lambda: push(world.manager, "mgr-tablet-002", theirs, manager_visit, 2), monkeypatch)

    async def plans(customer: str) -> list[tuple[Any, ...]]:
        rows = await PlannedRevisit.select(PlannedRevisit.due_date, PlannedRevisit.status, PlannedRevisit.deleted).where(
            PlannedRevisit.customer_id == uuid.UUID(customer))
        return sorted((r["due_date"], r["status"], r["deleted"]) for r in rows)

    assert await plans(busy) == await plans(calm)
    assert [p[:2] for p in await plans(calm) if not p[2] and p[1] == "planned"] == [(dt.date(2026, 12, 5), "planned")]
    assert world.engine.stale_pushes == 1


async def test_a_push_whose_reads_are_untouched_goes_on_at_once(world: World, monkeypatch: Any) -> None:
    """Another rep's write in the gap touches nothing the push read: no second run."""
    other = Actor(uuid.uuid4(), "rep", world.rep.region_id)
    from server.sync.service import bulk_write

    await bulk_write(Actor(uuid.uuid4(), "admin", None), [
        ("users", {"id": str(other.user_id), "username": str(other.user_id), "role": "rep",
                   "region_id": str(world.rep.region_id)})])
    mine, theirs = Clock("rep-phone-0003"), Clock("rep-phone-0004")

    def note(n: int) -> Create:
        return Create(n, mine.tick(_ms()), "notes", str(uuid.uuid4()), {"customer_id": world.customer, "body": "mine"})

    customer = Create(1, theirs.tick(_ms()), "customers", str(uuid.uuid4()), {"name": "Theirs", "tier": "B"})

    async def other_rep_writes() -> None:
        resp = await world.engine.push(other, PushRequest(1, "rep-phone-0004", theirs.tick(_ms()), [customer]))
        assert [r.status for r in resp.results] == ["applied"]

    first = await world.engine.push(world.rep, PushRequest(1, "rep-phone-0003", mine.tick(_ms()), [note(1)]))
    assert first.last_n == 1  # the phone's record now exists, and the next push reads it first
    resp = await _held_at_lock(world.engine.push(world.rep, PushRequest(1, "rep-phone-0003", mine.tick(_ms()), [note(2)])),
                               other_rep_writes, monkeypatch)
    assert ([r.status for r in resp.results], resp.last_n) == (["applied"], 2)
    assert world.engine.stale_pushes == 0


async def test_a_push_reads_what_it_names_before_it_takes_the_counter_row(world: World, monkeypatch: Any) -> None:
    """The statements a push sends while it holds the counter row are each a round trip on
    PostgreSQL that every other writer waits for; its reads of the client, the rows, the
    customers' histories and their regions come before it."""
    from server import db

    clock = Clock("rep-phone-0005")
    sent: list[str] = []
    run_sql = db.run_sql

    async def traced(sql: str, args: Any, **kw: Any) -> Any:
        sent.append(sql)
        return await run_sql(sql, args, **kw)

    monkeypatch.setattr(db, "run_sql", traced)
    visit = Create(1, clock.tick(_ms()), "visits", str(uuid.uuid4()),
                   {"customer_id": world.customer, "started_at": "2026-11-20T09:00:00Z"})
    resp = await world.engine.push(world.rep, PushRequest(1, "rep-phone-0005", clock.tick(_ms()), [visit]))
    assert [r.status for r in resp.results] == ["applied"]
    took = next(i for i, sql in enumerate(sent) if sql.startswith("UPDATE sync_counter SET value = value + 1"))
    before = " ".join(sent[:took])
    for read in ("sync_clients", "FROM customers WHERE id IN", "FROM planned_revisits", "FROM regions"):
        assert read in before, read
    assert sent[took + 1].startswith("SELECT EXISTS"), "the check of what was read comes right after"


def test_every_other_method_of_a_write_transaction_takes_the_counter_row_first() -> None:
    """Before ``lock`` only the reads whose results are checked may run (sync/store.py)."""
    from server.sync.store import _Writer

    early = {"lock", "get_client", "get", "prefetch", "load_histories", "latest_visit_and_plans"}
    public = {name for name, fn in inspect.getmembers(_Writer, inspect.iscoroutinefunction) if not name.startswith("_")}
    assert early <= public
    assert {name for name in public - early if not getattr(getattr(_Writer, name), "after_lock", False)} == set()

"""The write path other server code uses (docs/architecture.md, "Write path")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from sync.client import Device
from sync.hlc import Clock
from tests.server.sync_http import HttpTransport
from tests.server.world import World


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


async def _finalize() -> None:
    from server import db
    from server.sync.service import finalize_bulk_load

    async with db.write_transaction():
        await finalize_bulk_load(["regions", "users"])


async def test_rest_put_after_a_device_clock_ahead_is_sequential(world: World, client: Any) -> None:
    from server.sync.service import apply_mutations
    from sync.actor import Actor

    rob = world["rob"]
    actor = Actor(rob.id, "rep", rob.region_id)
    cid = str(uuid.uuid4())
    device_clock = Clock("rob-phone-01")
    ahead = device_clock.tick(now_ms() + 30_000)  # a device 30 s ahead wrote the row
    res = await apply_mutations(actor, [{"kind": "create", "n": 1, "hlc": ahead, "table": "customers",
                                         "id": cid, "row": {"name": "Ahead"}}], client_id="rob-phone-01")
    assert res[0].status == "applied"
    put = {"kind": "put", "table": "customers", "id": cid, "fields": {"name": {"value": "REST", "base": ahead}}}
    out = await apply_mutations(actor, [put])
    assert (out[0].status, out[0].code) == ("applied", None)


async def test_touch_moves_a_user_between_region_buckets(world: World, client: Any) -> None:
    from server import db
    from server.sync.service import touch
    from server.tables import User
    from sync.actor import Actor

    await _finalize()
    ann, t = Device("ann-tablet-01", world["ann"], now_ms), HttpTransport(client)
    sam, ts = Device("sam-tablet-01", world["sam"], now_ms), HttpTransport(client)
    await ann.pull(t)
    await sam.pull(ts)
    rita = world["rita"]
    assert str(rita.id) in ann.rows("users") and str(rita.id) not in sam.rows("users")
    admin = Actor(world["admin"].id, "admin", None)
    async with db.write_transaction():
        await User.update({User.region_id: world.south}).where(User.id == rita.id)
        await touch(admin, "users", str(rita.id), before={"region_id": world.north})
    await ann.pull(t)
    await sam.pull(ts)
    assert str(rita.id) not in ann.rows("users") and str(rita.id) in sam.rows("users")
    assert ann.last_checksums_ok and sam.last_checksums_ok


async def test_bulk_write_and_finalize_keep_checksums(world: World, client: Any) -> None:
    from server import db
    from server.sync.service import bulk_write, finalize_bulk_load
    from server.tables import Customer
    from sync.actor import Actor

    rob = world["rob"]
    admin = Actor(world["admin"].id, "admin", None)
    rows = [("customers", {"id": uuid.uuid4(), "name": f"Bulk {i}", "owner_id": rob.id, "region_id": rob.region_id})
            for i in range(30)]
    assert await bulk_write(admin, rows, batch=7) == 30
    assert await bulk_write(admin, rows) == 0  # existing ids are skipped
    async with db.write_transaction():
        await Customer.insert(*[Customer(id=uuid.uuid4(), name=f"Raw {i}", owner_id=rob.id, region_id=rob.region_id)
                                for i in range(20)])
        assert await finalize_bulk_load(["customers"]) == 20
    d = Device("rob-phone-02", rob, now_ms)
    await d.pull(HttpTransport(client), limit=9)
    assert len(d.rows("customers")) == 50 and d.last_checksums_ok
    v = await client.get("/api/sync/verify?protocol=1", headers=rob.headers)
    assert v.json()["buckets"][f"rep:{rob.id}"]["count"] == 50
    assert msgspec.json.decode(v.content)["through"] > 0


async def test_a_push_reads_in_as_many_statements_for_many_visits_as_for_one(
    world: World, client: Any, monkeypatch: Any
) -> None:
    """A push reads what its mutations name (their rows, customers, histories, plans and
    regions) a table's worth at a time, not once per mutation: on PostgreSQL each statement
    is a round trip made while the push holds the counter row. Counted: the statements
    that wait for an answer, the deferred writes aside."""
    from server import db
    from server.sync.service import apply_mutations
    from sync.actor import Actor

    rob = world["rob"]
    actor = Actor(rob.id, "rep", rob.region_id)
    clock = Clock("rob-phone-02")
    customers = [str(uuid.uuid4()) for _ in range(21)]
    creates = [{"kind": "create", "n": n, "hlc": clock.tick(now_ms()), "table": "customers", "id": c,
                "row": {"name": f"Shop {n}", "tier": "A"}} for n, c in enumerate(customers, 1)]
    assert {r.status for r in await apply_mutations(actor, creates, client_id="rob-phone-02")} == {"applied"}
    reads: list[str] = []
    run_sql = db.run_sql

    async def counted(sql: str, args: Any, **kw: Any) -> Any:
        if not kw.get("defer"):
            reads.append(sql)
        return await run_sql(sql, args, **kw)

    monkeypatch.setattr(db, "run_sql", counted)

    async def push(names: list[str], first: int) -> int:
        reads.clear()
        visits = [{"kind": "create", "n": first + i, "hlc": clock.tick(now_ms()), "table": "visits",
                   "id": str(uuid.uuid4()), "row": {"customer_id": c, "started_at": "2026-11-20T09:00:00Z"}}
                  for i, c in enumerate(names)]
        assert {r.status for r in await apply_mutations(actor, visits, client_id="rob-phone-02")} == {"applied"}
        return len(reads)

    one = await push(customers[:1], 22)
    many = await push(customers[1:], 23)
    assert many == one, (one, many)

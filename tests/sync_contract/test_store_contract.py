"""One contract for every ``SyncStore``: the in-memory fake and the Piccolo store on
SQLite and (with ``REVISIT_TEST_DATABASE_URL``) PostgreSQL behave the same."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest

from sync import checksum
from sync.memory import MemoryStore
from sync.schema import TABLES, validate_create
from sync.store import BucketStats, ClientState

NOW = dt.datetime(2026, 11, 25, 3, 4, 5, 123456, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "piccolo"])
def backend(request: pytest.FixtureRequest) -> Any:
    """Sync on purpose: the database fixtures create databases with ``asyncio.run``."""
    return request.getfixturevalue("settings") if request.param == "piccolo" else None


@asynccontextmanager
async def open_store(backend: Any) -> AsyncIterator[Any]:
    """The store of ``backend`` (None: in memory), its database pool open while in use."""
    if backend is None:
        yield MemoryStore()
        return
    from server import db
    from server.sync.store import PiccoloSyncStore

    db.configure_database(backend)
    await db.start_pool()
    try:
        yield PiccoloSyncStore()
    finally:
        await db.close_pool()


@pytest.fixture
async def store(backend: Any) -> AsyncIterator[Any]:
    async with open_store(backend) as s:
        yield s


def uid() -> str:
    return str(uuid.uuid4())


OWNER, REGION, CUSTOMER, ITEM = uid(), uid(), uid(), uid()


def row(table: str, seq: int, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "customers": {"name": "顾客 ACME", "tags": ["a", "b"], "latitude": 31.2, "tier": "A"},
        "visits": {"customer_id": CUSTOMER, "started_at": "2026-11-25T08:00:00+08:00", "order_value": "12.5",
                   "satisfaction": 4},
        "gifts": {"customer_id": CUSTOMER, "item_id": ITEM, "quantity": 2, "unit_value": "30",
                  "given_at": "2026-03-01T00:00:00Z"},
        "notes": {"customer_id": CUSTOMER, "body": "hello"},
        "planned_revisits": {"customer_id": CUSTOMER, "due_date": "2026-11-20"},
        "stock_movements": {"item_id": ITEM, "delta": 5},
        "regions": {"name": f"R{seq}"},
        "gift_items": {"name_en": "Tea", "name_zh": "茶", "unit_value": "40", "yearly_cap": "100"},
        "conflicts": {},
        "contacts": {"customer_id": CUSTOMER, "name": "Li"},
    }[table]
    r = validate_create(TABLES[table], values.pop("id", uid()), {**base}, NOW)
    if table == "conflicts":
        r.update({"tbl": "customers", "row_id": CUSTOMER, "field": "phone", "losing_value": {"x": [1]},
                  "losing_clock": "018bcfe56800-0000-a", "winning_value": None, "winning_clock": "018bcfe56800-0001-b",
                  "customer_id": CUSTOMER})
    if "owner_id" in r:
        r["owner_id"], r["region_id"] = OWNER, REGION
    for who in ("rep_id", "author_id"):
        if who in r:
            r[who] = OWNER
    r.update(values)
    r["seq"] = seq
    r["clocks"] = {f: "018bcfe56800-0000-server" for f in TABLES[table].clock_fields}
    return r


async def test_rows_round_trip_every_table(store: Any) -> None:
    tables = ["customers", "contacts", "visits", "gifts", "notes", "planned_revisits", "stock_movements",
              "conflicts", "regions", "gift_items"]
    written = {}
    async with store.write() as tx:
        for t in tables:
            r = row(t, await tx.next_seq(), id=CUSTOMER if t == "customers" else uid())
            await tx.save(t, r)
            written[t] = r
    async with store.read() as rx:
        for t, r in written.items():
            assert await rx.get(t, r["id"]) == r, t
        assert await rx.get("visits", uid()) is None


async def test_counter_is_contiguous_and_rollback_leaves_nothing(store: Any) -> None:
    async with store.read() as rx:
        start = (await rx.head(())).high
    async with store.write() as tx:
        seqs = [await tx.next_seq() for _ in range(5)]
    assert seqs == list(range(seqs[0], seqs[0] + 5)) and seqs[0] > start
    async with store.read() as rx:
        assert (await rx.head(())).high == seqs[-1]
    r = row("notes", 0)
    with pytest.raises(RuntimeError):
        async with store.write() as tx:
            r["seq"] = await tx.next_seq()
            await tx.save("notes", r)
            await tx.set_bucket_stats("rep:x", BucketStats(1, 2, 0))
            raise RuntimeError("boom")
    async with store.read() as rx:
        assert await rx.get("notes", r["id"]) is None
        assert (await rx.head(())).high == seqs[-1]
        assert (await rx.head(["rep:x"])).stats["rep:x"].count == 0


async def test_changes_by_bucket_in_seq_order(store: Any) -> None:
    other_owner = uid()
    async with store.write() as tx:
        a = row("customers", await tx.next_seq(), id=CUSTOMER)
        await tx.save("customers", a)
        b = row("visits", await tx.next_seq())
        await tx.save("visits", b)
        c = row("notes", await tx.next_seq(), owner_id=other_owner)
        await tx.save("notes", c)
        removal = await tx.next_seq()
        await tx.add_removal(f"rep:{OWNER}", removal, "contacts", CUSTOMER)
        g = row("gift_items", await tx.next_seq())
        await tx.save("gift_items", g)
        d = row("notes", await tx.next_seq(), deleted=True)
        await tx.save("notes", d)
    async with store.read() as rx:
        high = (await rx.head(())).high
        rep = await rx.changes(f"rep:{OWNER}", 0, high, 100)
        assert [(ch.table, ch.row_id, ch.row is None) for ch in rep] == [
            ("customers", a["id"], False), ("visits", b["id"], False), ("contacts", CUSTOMER, True),
            ("notes", d["id"], False)]
        assert [ch.seq for ch in rep] == sorted(ch.seq for ch in rep)
        assert [ch.row_id for ch in await rx.changes(f"rep:{OWNER}", a["seq"], high, 2)] == [b["id"], CUSTOMER]
        assert [ch.row_id for ch in await rx.changes(f"rep:{OWNER}", 0, b["seq"], 10)] == [a["id"], b["id"]]
        region = await rx.changes(f"region:{REGION}", 0, high, 100)
        assert {ch.row_id for ch in region} == {a["id"], b["id"], c["id"], d["id"]}
        assert [ch.row_id for ch in await rx.changes("global", 0, high, 100)] == [g["id"]]
        assert [ch.row_id for ch in await rx.changes(f"rep:{other_owner}", 0, high, 100)] == [c["id"]]


async def test_bucket_stats_clients_results(store: Any) -> None:
    big = (1 << 64) - 5  # stored signed, read back unsigned (R-SUM-2)
    async with store.write() as tx:
        await tx.next_seq()
        await tx.set_bucket_stats("region:r", BucketStats(3, big, 7))
        await tx.save_client(ClientState("dev-000001", OWNER, 4, 0), NOW)
        await tx.save_result("dev-000001", 4, b'{"n":4,"status":"applied"}')
    async with store.write() as tx:
        assert (await tx.head(["region:r"])).stats == {"region:r": BucketStats(3, big, 7)}
        assert await tx.get_client("dev-000001") == ClientState("dev-000001", OWNER, 4, 0, NOW)
        assert await tx.get_result("dev-000001", 4) == b'{"n":4,"status":"applied"}'
        assert await tx.get_result("dev-000001", 5) is None
        assert await tx.user_of_client("dev-000001") == OWNER
        assert await tx.user_of_client("nobody") is None
    assert checksum.to_signed(big) == -5


async def test_head_is_counter_epoch_client_and_stats_of_one_snapshot(store: Any) -> None:
    """What a pull reads first, in one call: buckets without stats read as zero, an
    unknown client as None; the stats, client and counter are the committed ones."""
    async with store.read() as rx:
        before = await rx.head(["region:r", "rep:none"], "dev-000001")
    assert before.client is None
    assert before.stats == {"region:r": BucketStats(), "rep:none": BucketStats()}
    big = (1 << 64) - 5
    async with store.write() as tx:
        seq = await tx.next_seq()
        await tx.set_bucket_stats("region:r", BucketStats(3, big, 7))
        await tx.set_bucket_stats("rep:y", BucketStats(1, 2, 0))
        await tx.set_bucket_stats("rep:not-asked", BucketStats(5, 5, 0))
        await tx.save_client(ClientState("dev-000001", OWNER, 4, 9), NOW)
        await tx.save_client(ClientState("dev-000002", OWNER, 1, 1), NOW)
    async with store.read() as rx:
        head = await rx.head(["region:r", "rep:none", "rep:y"], "dev-000001")
        alone = await rx.head([])
    assert head.high == alone.high == seq
    assert head.epoch and head.epoch == alone.epoch == before.epoch
    assert head.client == ClientState("dev-000001", OWNER, 4, 9, NOW)
    assert head.stats == {"region:r": BucketStats(3, big, 7), "rep:none": BucketStats(), "rep:y": BucketStats(1, 2, 0)}
    assert alone.client is None and alone.stats == {}


async def test_business_queries(store: Any) -> None:
    async with store.write() as tx:
        await tx.save("customers", row("customers", await tx.next_seq(), id=CUSTOMER))
        await tx.save("gifts", row("gifts", await tx.next_seq()))
        await tx.save("gifts", row("gifts", await tx.next_seq(), given_at="2025-12-31T23:00:00Z"))
        await tx.save("gifts", row("gifts", await tx.next_seq(), deleted=True))
        await tx.save("stock_movements", row("stock_movements", await tx.next_seq()))
        await tx.save("stock_movements", row("stock_movements", await tx.next_seq(), delta=-2))
        await tx.save("planned_revisits", row("planned_revisits", await tx.next_seq()))
        await tx.save("planned_revisits", row("planned_revisits", await tx.next_seq(), due_date="2026-12-30"))
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        value = await tx.gift_value(CUSTOMER, ITEM, start, start.replace(year=2027), uid())
        assert value == Decimal("60.00")
        assert await tx.stock_level(OWNER, ITEM) == 3
        kids = await tx.customer_rows(CUSTOMER)
        assert sorted(t for t, _ in kids) == ["gifts", "gifts", "gifts", "planned_revisits", "planned_revisits"]
    async with store.read() as rx:
        plan = await rx.today_plan(OWNER, dt.date(2026, 11, 25))
        assert [t for t, _ in plan] == ["customers", "planned_revisits"]


async def test_positions_and_compaction(store: Any) -> None:
    async with store.write() as tx:
        dead = row("notes", await tx.next_seq(), deleted=True)
        await tx.save("notes", dead)
        live = row("notes", await tx.next_seq())
        await tx.save("notes", live)
        await tx.add_removal("rep:x", await tx.next_seq(), "notes", uid())
        await tx.set_bucket_stats("rep:x", BucketStats(1, 1, 0))
    await store.record_pull("dev-000002", OWNER, 0, NOW)
    assert await store.min_active_position(NOW - dt.timedelta(days=1)) is None
    await store.record_pull("dev-000002", OWNER, live["seq"] + 1, NOW)
    await store.record_pull("dev-000003", OWNER, live["seq"] + 5, NOW - dt.timedelta(days=40))
    assert await store.min_active_position(NOW - dt.timedelta(days=30)) == live["seq"] + 1
    assert await store.compact(live["seq"] + 1) == 2
    async with store.read() as rx:
        assert await rx.get("notes", dead["id"]) is None
        assert await rx.get("notes", live["id"]) is not None
        assert (await rx.head(["rep:x"])).stats["rep:x"].compacted_through == live["seq"] + 1

"""What a write transaction reads back is what it wrote, whether or not the store
remembers rows (``prefetch``, the Piccolo store's per-transaction row memory) or keeps
results to write them together before commit. Memory, SQLite and (with
``REVISIT_TEST_DATABASE_URL``) PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from sync.schema import TABLES
from sync.store import row_of
from tests.sync_contract.test_store_contract import backend, row, store, uid  # noqa: F401 (fixtures)


async def saved(store: Any, table: str) -> dict[str, Any]:  # noqa: F811
    async with store.write() as tx:
        r = row(table, await tx.next_seq())
        await tx.save(table, r)
    return r


async def test_prefetch_then_get_gives_the_rows_and_absences(store: Any) -> None:  # noqa: F811
    a = await saved(store, "notes")
    missing = uid()
    async with store.write() as tx:
        await tx.prefetch([("notes", a["id"]), ("notes", missing), ("notes", "not-a-uuid"), ("nope", missing),
                           ("notes", a["id"].upper())])
        assert await tx.get("notes", a["id"]) == a
        assert await tx.get("notes", missing) is None


async def test_a_row_read_back_is_a_copy_and_a_save_is_seen(store: Any) -> None:  # noqa: F811
    a = await saved(store, "customers")
    fresh = uid()
    async with store.write() as tx:
        await tx.prefetch([("customers", a["id"]), ("visits", fresh)])
        got = await tx.get("customers", a["id"])
        got["tags"].append("changed in place")
        got["clocks"]["tier"] = "x"
        assert await tx.get("customers", a["id"]) == a  # the caller's edits are not the store's
        b = {**a, "tier": "B", "seq": await tx.next_seq()}
        await tx.save("customers", b)
        assert await tx.get("customers", a["id"]) == b
        v = row("visits", await tx.next_seq(), id=fresh, customer_id=a["id"])
        assert await tx.get("visits", fresh) is None
        await tx.save("visits", v)
        assert await tx.get("visits", fresh) == v
    async with store.read() as rx:
        assert await rx.get("customers", a["id"]) == b
        assert await rx.get("visits", fresh) == v


async def test_results_are_readable_in_their_transaction_and_after(store: Any) -> None:  # noqa: F811
    client = f"dev-{uid()[:8]}"
    async with store.write() as tx:
        await tx.save_result(client, 1, b'{"n":1,"status":"applied"}')
        await tx.save_result(client, 2, b'{"n":2,"status":"duplicate"}')
        assert await tx.get_result(client, 1) == b'{"n":1,"status":"applied"}'
        await tx.save_result(client, 3, b'{"n":3,"status":"applied"}')
    async with store.write() as tx:
        assert [await tx.get_result(client, n) for n in (1, 2, 3, 4)] == [
            b'{"n":1,"status":"applied"}', b'{"n":2,"status":"duplicate"}', b'{"n":3,"status":"applied"}', None]


async def test_a_pulled_row_is_the_row_written(store: Any) -> None:  # noqa: F811
    """Every kind of value in wire form (R-SCHEMA-1), as ``changes`` sends it (R-PULL-2) and
    as ``get`` reads it."""
    values = [
        ("visits", {"started_at": "2026-11-25T00:00:00.250000Z", "ended_at": "2026-11-25T01:00:00Z",
                    "order_value": "1234567.89", "satisfaction": 5, "latitude": 31.0, "planned_for": "2026-11-24",
                    "outcome": '["茶", "杯"]', "deleted": True}),
        ("customers", {"tags": ["a", "b"], "latitude": 31.2, "key_account": True, "archived": False}),
        ("gifts", {"unit_value": "0.10", "quantity": 3, "over_cap": True}),
        ("planned_revisits", {"due_date": "2026-12-31", "status": "done"}),
    ]
    owner = uid()
    async with store.write() as tx:
        written = []
        for table, v in values:
            r = row(table, await tx.next_seq(), owner_id=owner, **{k: x for k, x in v.items() if k in TABLES[table].fields})
            await tx.save(table, r)
            written.append(r)
    async with store.read() as rx:
        sent = [row_of(c.row) for c in await rx.changes(f"rep:{owner}", 0, (await rx.head(())).high, 100)]
        assert sent == [await rx.get(table, r["id"]) for r, (table, _) in zip(written, values, strict=True)]
    assert sent == written


async def test_values_stored_in_another_spelling_are_read_in_canonical_form(backend: Any, store: Any) -> None:  # noqa: F811
    """SQLite keeps UUIDs and timestamps as text: a row whose values were written by another
    tool in another spelling (ids in upper case, without hyphens, as all digits; a timestamp
    in ISO form) is read, and pulled, as ``str(uuid.UUID)`` and the wire form would spell it."""
    if backend is None or backend.is_postgres:
        pytest.skip("only SQLite stores UUIDs as text")
    from server import db

    digits = "12345678-1234-4234-8234-123456789012"
    cases = {  # name: (column, stored spelling of the row's value, the value read back)
        "upper": ("customer_id", lambda v: v.upper(), None),
        "bare": ("customer_id", lambda v: v.replace("-", ""), None),
        "digits": ("customer_id", lambda v: digits, digits),
        "iso time": ("created_at", lambda v: "2026-11-25T11:04:05.5+08:00", "2026-11-25T03:04:05.500000Z"),
    }
    for name, (column, spell, wanted) in cases.items():
        a = await saved(store, "notes")
        async with store.write() as tx:  # a write takes a new version (R-CUR-1), whoever makes it
            seq = await tx.next_seq()
            await db.run_sql(
                f"UPDATE notes SET {column} = {{}}, seq = {{}} WHERE id = {{}}", (spell(a[column]), seq, a["id"])
            )
        expected = {**a, column: a[column] if wanted is None else wanted, "seq": seq}
        async with store.read() as rx:
            assert await rx.get("notes", a["id"]) == expected, name
            sent = [row_of(c.row) for c in await rx.changes(f"rep:{a['owner_id']}", seq - 1, seq, 10)]
        assert sent == [expected], name


async def test_the_cadence_reads_plans_from_kept_json_or_from_their_values(backend: Any, store: Any) -> None:  # noqa: F811
    """The open plans the cadence reads for a push (``load_histories``) come from their kept
    JSON where it is current and are converted from their values otherwise: each is the
    plan as stored, and a later ``get`` in the transaction gives the same."""
    if backend is None:
        pytest.skip("the memory store keeps rows, not JSON")
    import datetime as dt

    from server import db

    owner = uid()
    async with store.write() as tx:
        customer = row("customers", await tx.next_seq(), owner_id=owner)
        await tx.save("customers", customer)
        plans = [row("planned_revisits", await tx.next_seq(), customer_id=customer["id"], owner_id=owner)
                 for _ in range(3)]
        for p in plans:
            await tx.save("planned_revisits", p)
    a, b, c = plans
    async with store.write() as tx:
        seq = await tx.next_seq()
        await db.run_sql("UPDATE planned_revisits SET due_date = {}, seq = {} WHERE id = {}",
                         (dt.date(2027, 1, 2), seq, b["id"]))
        await db.run_sql("UPDATE planned_revisits SET wire = NULL, wire_seq = NULL WHERE id = {}", (c["id"],))
    expected = sorted([a, {**b, "due_date": "2027-01-02", "seq": seq}, c], key=lambda r: r["id"])
    async with store.write() as tx:
        await tx.load_histories({customer["id"]: []})
        latest, read = await tx.latest_visit_and_plans(customer["id"], [])
        assert latest is None
        assert sorted(read, key=lambda r: r["id"]) == expected
        assert [await tx.get("planned_revisits", r["id"]) for r in expected] == expected


async def test_times_and_dates_are_stored_as_piccolo_stores_them(backend: Any, store: Any) -> None:  # noqa: F811
    """SQLite keeps times and dates as text, and compares them as text: the store writes
    them in the spelling Piccolo's adapters give them, whether the wire value had
    microseconds or not, so the ORM's queries find the rows by those values."""
    if backend is None or backend.is_postgres:
        pytest.skip("only SQLite stores times as text")
    import datetime as dt

    from piccolo.engine.sqlite import convert_date_in, convert_datetime_in

    from server import db
    from server.tables import PlannedRevisit, Visit

    times = ["2026-11-25T03:04:05Z", "2026-11-25T03:04:05.000001Z", "2026-11-25T03:04:05.5+08:00",
             "2026-11-25T03:04:05.000000Z"]
    async with store.write() as tx:
        visits = [row("visits", await tx.next_seq(), started_at=t) for t in times]
        plan = row("planned_revisits", await tx.next_seq(), due_date="2026-12-31")
        for v in visits:
            await tx.save("visits", v)
        await tx.save("planned_revisits", plan)
    for v, t in zip(visits, times, strict=True):
        when = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        stored = await db.run_sql("SELECT +started_at AS started_at FROM visits WHERE id = {}", (v["id"],))
        assert stored == [{"started_at": convert_datetime_in(when)}], t
        assert await Visit.select(Visit.id).where(Visit.started_at == when).output(as_json=False) != [], t
    stored = await db.run_sql("SELECT +due_date AS due_date FROM planned_revisits WHERE id = {}", (plan["id"],))
    assert stored == [{"due_date": convert_date_in(dt.date(2026, 12, 31))}]
    assert await PlannedRevisit.count().where(PlannedRevisit.due_date == dt.date(2026, 12, 31)) >= 1


async def test_a_pull_sends_the_json_kept_at_write_and_converts_rows_written_otherwise(backend: Any, store: Any) -> None:  # noqa: F811
    """The store keeps each row's wire JSON as it writes it, and a pull sends those bytes
    (``WireRow``); a row another writer changed (a new version without kept JSON) and a
    row inserted by another writer are converted from their values. Either way the row
    is the one written."""
    if backend is None:
        pytest.skip("the memory store keeps rows, not JSON")
    from server import db

    a, b, c = await saved(store, "visits"), await saved(store, "visits"), await saved(store, "visits")
    bucket = f"rep:{a['owner_id']}"
    async with store.read() as rx:
        page = [ch.row for ch in await rx.changes(bucket, a["seq"] - 1, c["seq"], 10)]
    assert [type(r).__name__ for r in page] == ["WireRow"] * 3
    assert all(isinstance(r.json, bytes) for r in page)  # as kept: no decoding into a string
    assert [row_of(r) for r in page] == [a, b, c]
    async with store.write() as tx:
        seq = await tx.next_seq()
        await db.run_sql("UPDATE visits SET notes = {}, seq = {} WHERE id = {}", ("changed elsewhere", seq, b["id"]))
        await db.run_sql("UPDATE visits SET wire = NULL, wire_seq = NULL WHERE id = {}", (c["id"],))
    async with store.read() as rx:
        page = [ch.row for ch in await rx.changes(bucket, a["seq"] - 1, seq, 10)]
    assert [type(r).__name__ for r in page] == ["WireRow", "dict", "dict"]
    assert [row_of(r) for r in page] == [a, c, {**b, "notes": "changed elsewhere", "seq": seq}]


async def test_prefetch_reads_the_kept_json_and_converts_rows_written_otherwise(backend: Any, store: Any) -> None:  # noqa: F811
    """A push's ``prefetch`` takes each row's kept JSON where it is current and converts
    the others from their values (a newer version written by another writer, a row whose
    JSON was dropped): each ``get`` gives the row as it is stored."""
    if backend is None:
        pytest.skip("the memory store keeps rows, not JSON")
    from server import db

    a, b, c = await saved(store, "customers"), await saved(store, "customers"), await saved(store, "customers")
    async with store.write() as tx:
        seq = await tx.next_seq()
        await db.run_sql("UPDATE customers SET phone = {}, seq = {} WHERE id = {}", ("+86 10 0000", seq, b["id"]))
        await db.run_sql("UPDATE customers SET wire = NULL, wire_seq = NULL WHERE id = {}", (c["id"],))
    async with store.write() as tx:
        await tx.prefetch([("customers", r["id"]) for r in (a, b, c)])
        got = [await tx.get("customers", r["id"]) for r in (a, b, c)]
    assert got == [a, {**b, "phone": "+86 10 0000", "seq": seq}, c]


async def test_a_change_of_the_wire_format_drops_every_kept_json(backend: Any, store: Any) -> None:  # noqa: F811
    """The kept JSON follows the schema: when the database was written with another wire
    format (``wire.FORMAT``, checked by every migration), it is dropped and rows are
    converted from their values until they are written again."""
    if backend is None:
        pytest.skip("the memory store keeps rows, not JSON")
    from server import db
    from server.sync import wire

    a = await saved(store, "customers")
    assert await wire.forget_if_format_changed() is False  # the test database is on this format
    async with db.write_transaction():
        await db.run_sql("UPDATE server_settings SET value = {} WHERE key = {}", ("an older format", wire.FORMAT_KEY))
    assert await wire.forget_if_format_changed() is True
    assert await wire.forget_if_format_changed() is False
    async with store.read() as rx:
        page = [ch.row for ch in await rx.changes(f"rep:{a['owner_id']}", a["seq"] - 1, a["seq"], 10)]
    assert page == [a]  # a dict: converted
    b = await saved(store, "customers")
    async with store.read() as rx:
        page = [ch.row for ch in await rx.changes(f"rep:{b['owner_id']}", b["seq"] - 1, b["seq"], 10)]
    assert [type(r).__name__ for r in page] == ["WireRow"] and row_of(page[0]) == b

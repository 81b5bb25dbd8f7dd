"""Writers waiting their turn never take every connection: while more write transactions
are open or waiting than the pool has connections (on PostgreSQL the sync store's writers
queue on the counter row's lock, each on a connection), a read still gets a connection at
once, and every writer still gets its turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server import db


async def test_reads_are_not_starved_by_writers_waiting_their_turn(database: Any) -> None:
    if not database.is_postgres:
        pytest.skip("SQLite has one writer at a time and its own read connections")
    release = asyncio.Event()
    inside = 0
    most = 0

    async def writer(i: int) -> None:
        nonlocal inside, most
        async with db.write_transaction():
            inside += 1
            most = max(most, inside)
            await db.run_sql("INSERT INTO server_settings (key, value) VALUES ({}, {})", (f"writer-{i}", "x"))
            await release.wait()
            inside -= 1

    writers = [asyncio.ensure_future(writer(i)) for i in range(14)]  # more than the pool's 10 connections
    try:
        await asyncio.sleep(0.5)
        async with asyncio.timeout(10):  # before: every connection held by a writer, the read waited
            async with db.read_transaction():
                rows = await db.run_sql("SELECT COUNT(*) AS n FROM server_settings WHERE key LIKE {}", ("writer-%",))
        assert rows[0]["n"] == 0  # the writers have not committed
        assert most == db.PG_WRITERS
    finally:
        release.set()
        await asyncio.wait_for(asyncio.gather(*writers), timeout=30)
    async with db.read_transaction():
        rows = await db.run_sql("SELECT COUNT(*) AS n FROM server_settings WHERE key LIKE {}", ("writer-%",))
    assert rows[0]["n"] == 14


async def test_a_write_inside_a_write_takes_no_second_turn(database: Any) -> None:
    """The engine's own transaction nests in a REST call's (``rest/writes.py``): with every
    turn taken by such outer transactions, the inner ones must not wait for a turn."""
    turns = db.PG_WRITERS if database.is_postgres else 1
    entered = 0

    async def nested(i: int) -> None:
        nonlocal entered
        async with db.write_transaction():
            async with db.write_transaction():
                await db.run_sql("INSERT INTO server_settings (key, value) VALUES ({}, {})", (f"nested-{i}", "y"))
                entered += 1

    await asyncio.wait_for(asyncio.gather(*(nested(i) for i in range(turns + 2))), timeout=30)
    assert entered == turns + 2


async def test_a_piccolo_query_outside_a_transaction_queues_with_the_writers(database: Any, monkeypatch: Any) -> None:
    """Any write Piccolo runs outside a transaction (an insert, a raw upsert, an update, a
    delete) takes its turn behind the process's other writers, as ``write_transaction``
    does, instead of waiting in SQLite's busy handler on a connection of its own: there it
    failed "database is locked" once the busy timeout passed (here cut to 0.2 s, while a
    write holds the database for three times that). A read outside a transaction does not
    wait: it is answered meanwhile, from the last committed state."""
    from server.tables import ServerSetting
    from tests.server.holding import HELD, a_long_write

    if database.is_postgres:
        pytest.skip("PostgreSQL locks rows, not the database; its writes need no queue")
    await ServerSetting.insert(ServerSetting(key="queued-old", value="1"))
    writes: list[asyncio.Future[Any]] = []
    try:
        async with a_long_write(monkeypatch, "queued-holder"):
            writes = [
                asyncio.ensure_future(w)
                for w in (
                    ServerSetting.insert(ServerSetting(key="queued-new", value="2")).run(),
                    ServerSetting.raw(
                        "INSERT INTO server_settings (key, value) VALUES ({}, {}) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        "queued-raw", "3",
                    ).run(),
                    ServerSetting.update({ServerSetting.value: "4"}).where(ServerSetting.key == "queued-old").run(),
                    ServerSetting.delete().where(ServerSetting.key == "queued-holder").run(),
                )
            ]
            seen = await asyncio.wait_for(ServerSetting.select(ServerSetting.key).output(as_list=True).run(), 5)
            assert "queued-holder" not in seen and "queued-new" not in seen  # the last committed state
            await asyncio.sleep(HELD)
            finished = [w for w in writes if w.done()]
            assert finished == [], [w.exception() or w.result() for w in finished]
    finally:
        await asyncio.wait_for(asyncio.gather(*writes, return_exceptions=True), 10)
    assert [w.exception() for w in writes] == [None] * 4
    rows = await ServerSetting.select(ServerSetting.key, ServerSetting.value).where(
        ServerSetting.key.like("queued-%")
    )
    assert {r["key"]: r["value"] for r in rows} == {"queued-old": "4", "queued-new": "2", "queued-raw": "3"}

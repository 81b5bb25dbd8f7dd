"""Writes sent with the transaction's next statement (``db.run_sql(defer=True)``), on both
databases: every later statement of the transaction sees them, Piccolo's own queries too;
one that fails fails its transaction, which leaves nothing behind, and the next transaction
works. ``grouped`` writes go as one batch per SQL text and end as if sent one by one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server import db
from server.tables import ServerSetting

_PUT = "INSERT INTO server_settings (key, value) VALUES ({}, {})"
_UPSERT = _PUT + " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
_LIMIT = "INSERT INTO rate_limits (key, window_start, hits) VALUES ({}, {}, {})"


async def _value(key: str) -> str | None:
    async with db.read_transaction():
        rows = await db.run_sql("SELECT value FROM server_settings WHERE key = {}", (key,))
    return rows[0]["value"] if rows else None


async def test_later_statements_of_the_transaction_see_a_deferred_write(database: Any) -> None:
    async with db.write_transaction():
        assert await db.run_sql(_PUT, ("deferred-a", "1"), defer=True) == []
        assert [r["value"] for r in await db.run_sql("SELECT value FROM server_settings WHERE key = {}",
                                                     ("deferred-a",))] == ["1"]
        await db.run_sql(_PUT, ("deferred-b", "2"), defer=True)
        piccolo = await ServerSetting.select(ServerSetting.value).where(ServerSetting.key == "deferred-b")
        assert piccolo == [{"value": "2"}]
        await db.run_sql(_PUT, ("deferred-c", "3"), defer=True)  # the last one goes with COMMIT
    assert [await _value(k) for k in ("deferred-a", "deferred-b", "deferred-c")] == ["1", "2", "3"]


async def test_a_failing_deferred_write_fails_its_transaction_and_leaves_nothing(database: Any) -> None:
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with db.write_transaction():
            await db.run_sql(_PUT, ("kept-out", "1"), defer=True)
            await db.run_sql(_PUT, ("twice", "1"), defer=True)
            await db.run_sql(_PUT, ("twice", "2"), defer=True)  # same key: fails at COMMIT on SQLite
    assert [await _value(k) for k in ("kept-out", "twice")] == [None, None]
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await db.run_sql(_PUT, ("rolled-back", "1"), defer=True)
            raise RuntimeError("the caller gives up")
    assert await _value("rolled-back") is None
    async with db.write_transaction():
        await db.run_sql(_PUT, ("twice", "3"), defer=True)
    assert await _value("twice") == "3"


async def test_grouped_writes_end_as_if_sent_one_by_one(database: Any) -> None:
    """Two SQL texts interleaved with an ungrouped write: each group keeps its own order
    (the same key written twice keeps the later value), reads in between see them all."""
    async with db.write_transaction():
        await db.run_sql(_UPSERT, ("grouped-a", "1"), defer=True, grouped=True)
        await db.run_sql(_LIMIT, ("grouped-limit-1", 60, 1), defer=True, grouped=True)
        await db.run_sql(_PUT, ("ungrouped", "u"), defer=True)
        await db.run_sql(_UPSERT, ("grouped-b", "2"), defer=True, grouped=True)
        await db.run_sql(_UPSERT, ("grouped-a", "3"), defer=True, grouped=True)
        await db.run_sql(_LIMIT, ("grouped-limit-2", 120, 2), defer=True, grouped=True)
        rows = await db.run_sql("SELECT key, value FROM server_settings WHERE key LIKE {} ORDER BY key", ("grouped-%",))
        assert [(r["key"], r["value"]) for r in rows] == [("grouped-a", "3"), ("grouped-b", "2")]
        await db.run_sql(_UPSERT, ("grouped-b", "4"), defer=True, grouped=True)  # a new batch, sent before COMMIT
    assert [await _value(k) for k in ("grouped-a", "grouped-b", "ungrouped")] == ["3", "4", "u"]
    async with db.read_transaction():
        limits = await db.run_sql("SELECT key, hits FROM rate_limits WHERE key LIKE {} ORDER BY key", ("grouped-%",))
    assert [(r["key"], r["hits"]) for r in limits] == [("grouped-limit-1", 1), ("grouped-limit-2", 2)]


async def test_failing_grouped_writes_leave_nothing_and_hold_no_connection(database: Any) -> None:
    """More failed transactions than the PostgreSQL pool has connections: none is kept by a
    failure (a batch failing at the end of the transaction is sent before COMMIT, inside it)."""
    for i in range(12):
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            async with db.write_transaction():
                await db.run_sql(_UPSERT, (f"batch-{i}", "kept out"), defer=True, grouped=True)
                await db.run_sql(_PUT, (f"dup-{i}", "1"), defer=True, grouped=True)
                await db.run_sql(_PUT, (f"dup-{i}", "2"), defer=True, grouped=True)
    assert await asyncio.wait_for(_value("batch-0"), 10) is None
    assert await _value("dup-11") is None
    async with db.write_transaction():
        await db.run_sql(_PUT, ("dup-0", "after"), defer=True, grouped=True)
    assert await _value("dup-0") == "after"


async def test_a_transaction_rolled_back_outside_the_helpers_drops_its_deferred_writes(
    database: Any, settings: Any
) -> None:
    """Piccolo's own transaction, rolled back: the deferred writes (one of which would fail)
    are not sent, the ROLLBACK runs and gives the connection back, again and again."""
    if not settings.is_postgres:
        pytest.skip("PostgreSQL only: on SQLite a transaction of Piccolo's own defers nothing")
    for i in range(12):
        with pytest.raises(RuntimeError):
            async with db.engine().transaction():
                await db.run_sql(_PUT, (f"own-{i}", "1"), defer=True, grouped=True)
                await db.run_sql(_PUT, (f"own-{i}", "2"), defer=True, grouped=True)
                raise RuntimeError("the caller gives up")
    assert await asyncio.wait_for(_value("own-0"), 10) is None
    async with db.engine().transaction():
        await db.run_sql(_PUT, ("own-0", "kept"), defer=True)
    assert await _value("own-0") == "kept"


async def test_single_row_writes_to_distinct_tables_go_together_with_the_same_effects(
    database: Any, settings: Any, monkeypatch: Any
) -> None:
    """On PostgreSQL, consecutive one-row deferred writes to distinct tables are sent as one
    statement (one round trip); a write to a table already in it starts the next. Either
    way every write takes effect, in order, and one that fails fails its transaction."""
    import asyncpg

    sent: list[str] = []
    execute = asyncpg.Connection.execute

    async def counted(self: Any, query: str, *args: Any, **kw: Any) -> Any:
        sent.append(query)
        return await execute(self, query, *args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "execute", counted)
    async with db.write_transaction():
        sent.clear()
        await db.run_sql(_UPSERT, ("together-a", "1"), defer=True)
        await db.run_sql(_LIMIT, ("together-limit", 60, 7), defer=True)
        await db.run_sql(_UPSERT, ("together-a", "2"), defer=True)  # server_settings again: a new statement
        await db.run_sql(_LIMIT, ("together-limit-2", 120, 8), defer=True)
        rows = await db.run_sql("SELECT value FROM server_settings WHERE key = {}", ("together-a",))
        assert [r["value"] for r in rows] == ["2"]
        writes = [q for q in sent if q.lstrip().upper().startswith(("WITH", "INSERT"))]
    assert len(writes) == (2 if settings.is_postgres else 0)  # SQLite runs its deferred writes in its own way
    async with db.read_transaction():
        limits = await db.run_sql("SELECT key, hits FROM rate_limits WHERE key LIKE {} ORDER BY key", ("together-%",))
    assert [(r["key"], r["hits"]) for r in limits] == [("together-limit", 7), ("together-limit-2", 8)]
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with db.write_transaction():
            await db.run_sql(_LIMIT, ("together-kept-out", 60, 1), defer=True)
            await db.run_sql(_PUT, ("together-a", "3"), defer=True)  # the key exists: fails
    async with db.read_transaction():
        assert await db.run_sql("SELECT hits FROM rate_limits WHERE key = {}", ("together-kept-out",)) == []
    assert await _value("together-a") == "2"

"""Writes sent with the transaction's next statement (``db.run_sql(defer=True)``, SQLite):
every later statement of the transaction sees them, Piccolo's own queries too; one that
fails fails its transaction, which leaves nothing behind, and the next transaction works.
On PostgreSQL the same calls simply run at once, so the same assertions hold there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from server import db
from server.tables import ServerSetting

_PUT = "INSERT INTO server_settings (key, value) VALUES ({}, {})"


@pytest.fixture
async def database(settings: Any) -> AsyncIterator[None]:
    db.configure_database(settings)
    await db.start_pool()
    try:
        yield
    finally:
        await db.close_pool()


async def _value(key: str) -> str | None:
    async with db.read_transaction():
        rows = await db.run_sql("SELECT value FROM server_settings WHERE key = {}", (key,))
    return rows[0]["value"] if rows else None


async def test_later_statements_of_the_transaction_see_a_deferred_write(database: None) -> None:
    async with db.write_transaction():
        assert await db.run_sql(_PUT, ("deferred-a", "1"), defer=True) == []
        assert [r["value"] for r in await db.run_sql("SELECT value FROM server_settings WHERE key = {}",
                                                     ("deferred-a",))] == ["1"]
        await db.run_sql(_PUT, ("deferred-b", "2"), defer=True)
        piccolo = await ServerSetting.select(ServerSetting.value).where(ServerSetting.key == "deferred-b")
        assert piccolo == [{"value": "2"}]
        await db.run_sql(_PUT, ("deferred-c", "3"), defer=True)  # the last one goes with COMMIT
    assert [await _value(k) for k in ("deferred-a", "deferred-b", "deferred-c")] == ["1", "2", "3"]


async def test_a_failing_deferred_write_fails_its_transaction_and_leaves_nothing(database: None) -> None:
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

"""Holding the database with a long write, for tests of what waits behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from server import db
from server.tables import ServerSetting

SQLITE_WAIT = 0.2  # seconds: SQLite's own busy wait, cut from 30 s
HELD = 3 * SQLITE_WAIT  # how long the tests hold the database


@asynccontextmanager
async def a_long_write(monkeypatch: Any, key: str) -> AsyncIterator[None]:
    """Inside: a write transaction that has written ``key`` holds the database (on SQLite,
    whose busy wait is cut to ``SQLITE_WAIT``); it commits on leaving."""
    if db.is_sqlite():
        monkeypatch.setitem(db.engine().connection_kwargs, "timeout", SQLITE_WAIT)
    holding, release = asyncio.Event(), asyncio.Event()

    async def long_write() -> None:
        async with db.write_transaction():
            await ServerSetting.insert(ServerSetting(key=key, value="x"))
            holding.set()
            await release.wait()

    holder = asyncio.create_task(long_write())
    await holding.wait()
    try:
        yield
    finally:
        release.set()
        await holder

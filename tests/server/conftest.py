from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.server.world import World, build_world


@pytest.fixture
async def database(settings: Any) -> AsyncIterator[Any]:
    """The test's database opened by ``server.db`` (its pool), without an app; yields the
    settings."""
    from server import db

    db.configure_database(settings)
    await db.start_pool()
    try:
        yield settings
    finally:
        await db.close_pool()


@pytest.fixture
def sqlite_only(settings: Any) -> None:
    """For tests of SQLite's own machinery (its connections, its WAL): skipped on PostgreSQL."""
    if settings.is_postgres:
        pytest.skip("SQLite's own machinery: not on PostgreSQL")


@pytest.fixture
async def world(client: Any) -> World:
    return await build_world(client)

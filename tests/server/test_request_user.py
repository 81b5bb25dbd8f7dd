"""The user of each authenticated request is read as the database has it at that moment:
a deactivation refuses the very next request however many requests came before (and
whichever of the server's read connections serves it), and after the database file is
replaced (a restore) requests are checked against the restored users and write to the
restored file."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from tests.server.world import PASSWORD, World, token_for


async def _me(client: Any, headers: dict[str, str], times: int = 8) -> list[int]:
    """``times`` requests at once, so more than one read runs at a time."""
    responses = await asyncio.gather(*(client.get("/api/me", headers=headers) for _ in range(times)))
    return [r.status_code for r in responses]


async def test_a_deactivation_refuses_the_next_request(client: Any, world: World) -> None:
    rob, rita = world["rob"].headers, world["rita"].headers
    for _ in range(3):
        assert await _me(client, rob) == [200] * 8
    r = await client.patch(
        f"/api/admin/users/{world['rob'].id}", json={"active": False}, headers=world["admin"].headers
    )
    assert r.status_code == 200
    assert await _me(client, rob) == [401] * 8
    assert await _me(client, rita) == [200] * 8
    r = await client.patch(
        f"/api/admin/users/{world['rob'].id}", json={"active": True}, headers=world["admin"].headers
    )
    assert r.status_code == 200
    # reactivated, but deactivation revoked the tokens issued before it
    assert await _me(client, rob) == [401] * 8
    login = await client.post("/api/auth/login", json={"username": "rob", "password": PASSWORD})
    assert login.status_code == 200
    fresh = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert await _me(client, fresh) == [200] * 8


async def test_requests_after_a_restore_see_the_restored_users(
    client: Any, world: World, settings: Any
) -> None:
    if settings.is_postgres:
        pytest.skip("replacing the database file is SQLite's restore")
    from server.backup import backup, restore

    saved = backup(settings, None, datetime(2026, 11, 26, tzinfo=UTC)).path
    r = await client.post(
        "/api/admin/users",
        json={"username": "zed", "password": PASSWORD, "role": "rep", "region_id": str(world.north)},
        headers=world["admin"].headers,
    )
    assert r.status_code == 201
    zed = {"Authorization": f"Bearer {token_for(UUID(r.json()['id']))}"}
    assert await _me(client, zed) == [200] * 8
    assert await _me(client, world["rob"].headers) == [200] * 8

    await asyncio.to_thread(restore, settings, saved, datetime(2026, 11, 27, tzinfo=UTC))

    assert await _me(client, zed) == [401] * 8  # not in the restored database
    assert await _me(client, world["rob"].headers) == [200] * 8
    # writes go to the restored file too (the server's write connection is not the old file's)
    r = await client.post(
        "/api/admin/users",
        json={"username": "amy", "password": PASSWORD, "role": "rep", "region_id": str(world.north)},
        headers=world["admin"].headers,
    )
    assert r.status_code == 201
    with sqlite3.connect(settings.sqlite_path) as conn:
        names = {n for (n,) in conn.execute("SELECT username FROM users")}
    assert "amy" in names and "zed" not in names

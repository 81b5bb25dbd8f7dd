"""A database too busy to take a request answers 503 with Retry-After, never a 500."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.server.world import World


async def test_locked_database_is_503_retry_after(client: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.auth.middleware as middleware

    async def locked(_: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(middleware, "user_by_id", locked)
    response = await client.get("/api/me", headers=world["rob"].headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json()["code"] == "busy"


async def test_other_unexpected_errors_stay_500_problem_json(
    client: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.auth.middleware as middleware

    async def broken(_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(middleware, "user_by_id", broken)
    response = await client.get("/api/me", headers=world["rob"].headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "boom" not in response.text  # internals are logged, not sent


async def test_a_unique_race_is_409_not_500(client: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.auth.middleware as middleware

    async def raced(_: Any) -> Any:
        raise sqlite3.IntegrityError("UNIQUE constraint failed: users.username")

    monkeypatch.setattr(middleware, "user_by_id", raced)
    response = await client.get("/api/me", headers=world["rob"].headers)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"

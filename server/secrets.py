"""Keys created on first start and kept in the database, so every process agrees."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from server import db
from server.tables import ServerSetting


async def get_or_create(key: str, factory: Callable[[], str]) -> str:
    """Return the stored value of ``key``, creating it once (first writer wins)."""
    row = await ServerSetting.select(ServerSetting.value).where(ServerSetting.key == key).first()
    if row is not None:
        return str(row["value"])
    value = factory()
    await ServerSetting.raw(
        "INSERT INTO server_settings (key, value) VALUES ({}, {}) ON CONFLICT (key) DO NOTHING",
        key,
        value,
    )
    row = await ServerSetting.select(ServerSetting.value).where(ServerSetting.key == key).first()
    assert row is not None
    return str(row["value"])


async def set_value(key: str, value: str) -> None:
    async with db.write_transaction():  # one write: never the key deleted and not yet set
        await ServerSetting.delete().where(ServerSetting.key == key)
        await ServerSetting.insert(ServerSetting(key=key, value=value))


def token_urlsafe() -> str:
    return secrets.token_urlsafe(48)

"""Loading users for authentication."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from server import db
from server.auth.schemas import CurrentUser
from server.tables import User

_FIELDS = [
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.region_id,
    User.locale,
    User.time_zone,
    User.quiet_start,
    User.quiet_end,
    User.active,
    User.token_version,
]


def _to_user(row: dict[str, Any]) -> CurrentUser:
    return msgspec.convert(row, CurrentUser)


_BY_ID = f"SELECT {', '.join(f._meta.db_column_name for f in _FIELDS)} FROM users WHERE id = {{}}"


async def user_by_id(user_id: UUID) -> CurrentUser | None:
    """The user of every authenticated request: one prepared statement (building it with
    Piccolo's query builder cost as much as the rest of a small pull), on SQLite on a
    pooled connection."""
    async with db.read_transaction(snapshot=False):
        rows = await db.run_sql(_BY_ID, (user_id,))
    return _to_user(rows[0]) if rows else None


async def user_and_hash_by_username(username: str) -> tuple[CurrentUser, str] | None:
    row = await User.select(*_FIELDS, User.password_hash).where(User.username == username).first()
    if not row:
        return None
    password_hash = row.pop("password_hash")
    return _to_user(row), password_hash

"""User administration. Users are reference data that sync sends down only (R-SCHEMA-3),
so they are written here directly; each change also gets a new ``seq`` from the sync
engine's counter (``writes.server_update``) so managers' devices receive it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from server.admin.schemas import PasswordReset, UserAdminView, UserCreate, UserPage, UserUpdate
from server.admin.service import check_time_zone
from server.auth.passwords import hash_password
from server.auth.service import revoke_all
from server.db import write_transaction
from server.errors import ApiError, not_found
from server.rest import writes
from server.rest.values import changed_fields, check_text
from server.tables import Customer, Region, User
from server.users import create_user as insert_user
from sync.actor import Actor

_VIEW = [
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
    User.created_at,
]


def _view(row: dict[str, Any]) -> UserAdminView:
    return msgspec.convert(row, UserAdminView, from_attributes=False)


def _scope(actor: Actor) -> list[Any]:
    """Admins see every user; managers the users of their region (the sync region bucket)."""
    where: list[Any] = [User.deleted == False]  # noqa: E712
    if actor.role == "manager":
        where.append(User.region_id == actor.region_id)
    return where


async def list_users(
    actor: Actor,
    *,
    role: str | None,
    region_id: UUID | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> UserPage:
    where = _scope(actor)
    if role is not None:
        where.append(User.role == role)
    if region_id is not None:
        where.append(User.region_id == region_id)
    if active is not None:
        where.append(User.active == active)
    total = await User.count().where(*where)
    rows = (
        await User.select(*_VIEW).where(*where).order_by(User.username).limit(limit).offset(offset)
    )
    return UserPage(items=[_view(r) for r in rows], total=total, limit=limit, offset=offset)


async def get_user(actor: Actor, user_id: UUID) -> UserAdminView:
    row = await User.select(*_VIEW).where(User.id == user_id, *_scope(actor)).first()
    if row is None:
        raise not_found("user")
    return _view(row)


async def _check_region(role: str, region_id: UUID | None) -> None:
    if role in ("rep", "manager") and region_id is None:
        raise ApiError(400, "validation", f"region_id: a {role} needs a region")
    if region_id is not None and not await Region.exists().where(
        Region.id == region_id,
        Region.deleted == False,  # noqa: E712
    ):
        raise ApiError(400, "validation", "region_id: no such region")


async def create_user(actor: Actor, data: UserCreate) -> UserAdminView:
    check_text(msgspec.structs.asdict(data))
    check_time_zone(data.time_zone)
    await _check_region(data.role, data.region_id)
    if await User.exists().where(User.username == data.username):
        raise ApiError(409, "conflict", "username: already taken")
    user_id = await insert_user(
        data.username,
        data.password,
        data.role,
        data.region_id,
        display_name=data.display_name,
        locale=data.locale,
        time_zone=data.time_zone,
        password_hash=hash_password(data.password),
        quiet_start=data.quiet_start,
        quiet_end=data.quiet_end,
    )
    return await get_user(actor, user_id)


async def update_user(
    actor: Actor, user_id: UUID, data: UserUpdate, now: datetime
) -> UserAdminView:
    current = await get_user(actor, user_id)
    values = changed_fields(data)
    check_text(values)
    role = values.get("role", current.role)
    region_id = values.get("region_id", current.region_id)
    await _check_region(role, region_id)
    if "time_zone" in values:
        check_time_zone(values["time_zone"])
    if user_id == actor.user_id and (values.get("active") is False or role != "admin"):
        raise ApiError(400, "validation", "you cannot deactivate or demote yourself")
    if current.role == "rep" and (role != "rep" or region_id != current.region_id):
        owned = await Customer.count().where(Customer.owner_id == user_id)
        if owned:
            raise ApiError(
                409,
                "user_owns_customers",
                f"reassign the rep's {owned} customers before changing role or region",
            )
    async with write_transaction():
        await User.update({getattr(User, k): v for k, v in values.items()}).where(
            User.id == user_id
        )
        if values.get("active") is False and current.active:
            await revoke_all(user_id, now)  # deactivation: tokens and sync stop at once
        await writes.server_update(actor, "users", user_id, {"region_id": current.region_id})
    return await get_user(actor, user_id)


async def reset_password(actor: Actor, user_id: UUID, data: PasswordReset, now: datetime) -> None:
    await get_user(actor, user_id)
    check_text(data.password, "password")
    password_hash = hash_password(data.password)
    async with write_transaction():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id)
        await revoke_all(user_id, now)

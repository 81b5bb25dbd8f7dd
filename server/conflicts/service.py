"""Conflicts in scope: list, restore the losing value, dismiss. Both actions are ordinary
puts through the sync engine (R-PUT-4), applied together or not at all."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import msgspec

from server.conflicts.schemas import ConflictPage, ConflictPublic
from server.errors import ApiError, not_found
from server.rest import writes
from server.rest.listing import page
from server.rest.scope import row_in_scope
from server.rest.values import clocks_of
from server.tables import Conflict
from sync.actor import Actor
from sync.schema import TABLES

_WHAT = "conflict"


def _json(raw: Any) -> Any:
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw


def to_public(row: dict[str, Any]) -> ConflictPublic:
    data = {
        **row,
        "losing_value": _json(row["losing_value"]),
        "winning_value": _json(row["winning_value"]),
    }
    return msgspec.convert(data, ConflictPublic, from_attributes=False)


async def list_conflicts(
    actor: Actor,
    *,
    status: str | None,
    customer_id: UUID | None,
    limit: int,
    offset: int,
) -> ConflictPage:
    filters: list[Any] = []
    if status is not None:
        filters.append(Conflict.status == status)
    if customer_id is not None:
        filters.append(Conflict.customer_id == customer_id)
    items, total = await page(
        Conflict, actor, filters, [Conflict.created_at], limit, offset, to_public
    )
    return ConflictPage(items=items, total=total, limit=limit, offset=offset)


async def get(actor: Actor, conflict_id: UUID) -> ConflictPublic:
    return to_public(await row_in_scope(Conflict, actor, conflict_id, _WHAT))


async def _open(actor: Actor, conflict_id: UUID) -> dict[str, Any]:
    row = await row_in_scope(Conflict, actor, conflict_id, _WHAT)
    if row["status"] != "open":
        raise ApiError(409, "conflict", f"this conflict is already {row['status']}")
    return row


async def restore(actor: Actor, conflict_id: UUID) -> ConflictPublic:
    """Write the losing value back (a sequential put on the field's current clock), then
    mark the conflict restored."""
    row = await _open(actor, conflict_id)
    spec = TABLES.get(row["tbl"])
    if spec is None:
        raise ApiError(409, "conflict", f"cannot restore into {row['tbl']}")
    target = await spec_row(row["tbl"], row["row_id"])
    if target is None:
        raise not_found("the conflicting record")
    put_value = writes.put(
        row["tbl"], row["row_id"], {row["field"]: _json(row["losing_value"])}, clocks_of(target)
    )
    mark = writes.put("conflicts", conflict_id, {"status": "restored"}, clocks_of(row))
    await writes.apply(actor, [put_value, mark])
    return await get(actor, conflict_id)


async def dismiss(actor: Actor, conflict_id: UUID) -> ConflictPublic:
    row = await _open(actor, conflict_id)
    await writes.apply_one(
        actor, writes.put("conflicts", conflict_id, {"status": "dismissed"}, clocks_of(row))
    )
    return await get(actor, conflict_id)


async def spec_row(table: str, row_id: UUID) -> dict[str, Any] | None:
    """The row a conflict points at (its clocks are the base of the restoring put)."""
    from server.tables import TABLES as PICCOLO_TABLES

    by_name = {t._meta.tablename: t for t in PICCOLO_TABLES}
    model = by_name.get(table)
    if model is None:
        return None
    return await model.select(model.clocks).where(model._meta.primary_key == row_id).first()  # type: ignore[attr-defined,no-any-return]

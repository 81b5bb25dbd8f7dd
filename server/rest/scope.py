"""Scope filters (R-SCOPE-1) as query conditions, so out-of-scope rows are never loaded.

A rep sees the customers they own and those customers' records; a manager the
customers of their region; an admin everything. Every customer-data table carries
``owner_id``/``region_id`` copied from its customer, so one condition fits all.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.columns.combination import Where, WhereRaw
from piccolo.table import Table

from server.errors import not_found
from server.tables import Customer
from sync.actor import Actor


def scope_where(table: type[Table], actor: Actor) -> Any:
    """The condition that keeps rows of ``table`` inside the caller's scope."""
    if actor.role == "admin":
        return WhereRaw("1 = 1")
    if actor.role == "manager":
        if actor.region_id is None:
            return WhereRaw("1 = 0")
        return table.region_id == actor.region_id  # type: ignore[attr-defined]
    return table.owner_id == actor.user_id  # type: ignore[attr-defined]


def live(table: type[Table]) -> Where:
    return table.deleted == False  # type: ignore[attr-defined]  # noqa: E712


async def customer_in_scope(actor: Actor, customer_id: UUID) -> dict[str, Any]:
    """The customer row, or 404 when it is missing or outside scope (R-SCOPE-3)."""
    row = (
        await Customer.select()
        .where(Customer.id == customer_id, live(Customer), scope_where(Customer, actor))
        .first()
    )
    if row is None:
        raise not_found("customer")
    return row  # type: ignore[no-any-return]


async def row_in_scope(table: type[Table], actor: Actor, row_id: UUID, what: str) -> dict[str, Any]:
    """A live customer-data row inside scope, or 404 (tombstones look like missing rows)."""
    row = (
        await table.select()
        .where(table._meta.primary_key == row_id, live(table), scope_where(table, actor))
        .first()
    )
    if row is None:
        raise not_found(what)
    return row  # type: ignore[no-any-return]

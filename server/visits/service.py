"""Visits in scope: list, create (a sync ``create``), delete (a tombstone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from server.errors import ApiError
from server.rest import writes
from server.rest.listing import page
from server.rest.scope import customer_in_scope, row_in_scope
from server.rest.values import aware, cents, check_amounts, clocks_of
from server.tables import Visit
from server.visits.schemas import VisitCreate, VisitPage, VisitPublic
from sync.actor import Actor


def to_public(row: dict[str, Any]) -> VisitPublic:
    return msgspec.convert({**row, "order_value": cents(row["order_value"])}, VisitPublic)


async def list_visits(
    actor: Actor,
    *,
    customer_id: UUID | None,
    rep_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> VisitPage:
    filters: list[Any] = []
    if customer_id:
        filters.append(Visit.customer_id == customer_id)
    if rep_id:
        filters.append(Visit.rep_id == rep_id)
    if aware(since, "since"):
        filters.append(Visit.started_at >= since)
    if aware(until, "until"):
        filters.append(Visit.started_at < until)
    items, total = await page(Visit, actor, filters, [Visit.started_at], limit, offset, to_public)
    return VisitPage(items=items, total=total, limit=limit, offset=offset)


async def list_for_customer(actor: Actor, customer_id: UUID, limit: int, offset: int) -> VisitPage:
    await customer_in_scope(actor, customer_id)
    return await list_visits(
        actor,
        customer_id=customer_id,
        rep_id=None,
        since=None,
        until=None,
        limit=limit,
        offset=offset,
    )


async def get(actor: Actor, visit_id: UUID) -> VisitPublic:
    return to_public(await row_in_scope(Visit, actor, visit_id, "visit"))


async def create(actor: Actor, data: VisitCreate) -> VisitPublic:
    check_amounts(order_value=data.order_value)
    await customer_in_scope(actor, data.customer_id)
    if data.ended_at is not None and data.ended_at < data.started_at:
        raise ApiError(400, "validation", "ended_at: before started_at")
    visit_id = data.id or uuid4()
    row = msgspec.structs.asdict(data)
    row.pop("id")
    row["order_value"] = f"{data.order_value:.2f}"
    await writes.apply_one(actor, writes.create("visits", visit_id, row))
    return await get(actor, visit_id)


async def delete(actor: Actor, visit_id: UUID) -> None:
    row = await row_in_scope(Visit, actor, visit_id, "visit")
    await writes.apply_one(actor, writes.put("visits", visit_id, {"deleted": True}, clocks_of(row)))

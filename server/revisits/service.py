"""Planned revisits in scope; manual plans and moves are sync mutations."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import msgspec

from server.errors import ApiError
from server.rest import writes
from server.rest.listing import page
from server.rest.scope import customer_in_scope, row_in_scope
from server.rest.values import changed_fields, clocks_of
from server.revisits.schemas import (
    PlannedRevisitCreate,
    PlannedRevisitPage,
    PlannedRevisitPublic,
    PlannedRevisitUpdate,
)
from server.tables import Customer, PlannedRevisit, User
from sync.actor import Actor


def _convert(row: dict[str, Any]) -> PlannedRevisitPublic:
    return msgspec.convert(row, PlannedRevisitPublic, from_attributes=False)


async def _decorate(items: list[PlannedRevisitPublic], today: date) -> list[PlannedRevisitPublic]:
    """Add the customer's name and tier, so a plan list is readable without more calls."""
    ids = list({p.customer_id for p in items})
    customers: dict[UUID, dict[str, Any]] = {}
    if ids:
        rows = await Customer.select(Customer.id, Customer.name, Customer.tier).where(
            Customer.id.is_in(ids)
        )
        customers = {r["id"]: r for r in rows}
    for p in items:
        c = customers.get(p.customer_id)
        if c:
            p.customer_name, p.tier = c["name"], c["tier"]
        p.overdue = p.status == "planned" and p.due_date < today
    return items


async def list_plans(
    actor: Actor,
    today: date,
    *,
    due_before: date | None = None,
    status: str | None = None,
    customer_id: UUID | None = None,
    rep_id: UUID | None = None,
    limit: int,
    offset: int,
) -> PlannedRevisitPage:
    filters: list[Any] = []
    if due_before is not None:
        filters.append(PlannedRevisit.due_date <= due_before)
    for column, value in (
        (PlannedRevisit.status, status),
        (PlannedRevisit.customer_id, customer_id),
        (PlannedRevisit.rep_id, rep_id),
    ):
        if value is not None:
            filters.append(column == value)
    items, total = await page(
        PlannedRevisit,
        actor,
        filters,
        [PlannedRevisit.due_date],
        limit,
        offset,
        _convert,
        ascending=True,
    )
    return PlannedRevisitPage(
        items=await _decorate(items, today), total=total, limit=limit, offset=offset
    )


async def get(actor: Actor, plan_id: UUID, today: date) -> PlannedRevisitPublic:
    row = await row_in_scope(PlannedRevisit, actor, plan_id, "planned revisit")
    return (await _decorate([_convert(row)], today))[0]


async def create(actor: Actor, data: PlannedRevisitCreate, today: date) -> PlannedRevisitPublic:
    customer = await customer_in_scope(actor, data.customer_id)
    rep_id = data.rep_id or customer["owner_id"]
    if data.rep_id is not None and data.rep_id != customer["owner_id"]:
        ok = await User.exists().where(
            User.id == data.rep_id,
            User.role == "rep",
            User.active == True,  # noqa: E712
            User.region_id == customer["region_id"],
        )
        if not ok:
            raise ApiError(400, "validation", "rep_id: not an active rep of the customer's region")
    plan_id = data.id or uuid4()
    row = {
        "customer_id": data.customer_id,
        "due_date": data.due_date,
        "rep_id": rep_id,
        "source": "manual",
        "status": "planned",
    }
    await writes.apply_one(actor, writes.create("planned_revisits", plan_id, row))
    return await get(actor, plan_id, today)


async def update(
    actor: Actor, plan_id: UUID, data: PlannedRevisitUpdate, today: date
) -> PlannedRevisitPublic:
    row = await row_in_scope(PlannedRevisit, actor, plan_id, "planned revisit")
    values = changed_fields(data)
    if "due_date" in values:
        values["source"] = "manual"  # a person's date wins over the cadence until done
    await writes.apply_one(actor, writes.put("planned_revisits", plan_id, values, clocks_of(row)))
    return await get(actor, plan_id, today)

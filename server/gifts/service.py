"""Gifts in scope: list, give (a sync ``create``; the engine flags over-cap gifts),
review (managers and admins), delete (a tombstone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from server.errors import ApiError
from server.gifts.schemas import GiftCreate, GiftPage, GiftPublic, GiftReview
from server.rest import writes
from server.rest.listing import page
from server.rest.scope import customer_in_scope, row_in_scope
from server.rest.values import aware, cents, changed_fields, check_amounts, clocks_of
from server.tables import Gift, GiftItem, Visit
from sync.actor import Actor


def to_public(row: dict[str, Any]) -> GiftPublic:
    data = dict(row)
    data["unit_value"] = cents(row["unit_value"])
    data["value"] = cents(row["unit_value"] * row["quantity"])
    return msgspec.convert(data, GiftPublic, from_attributes=False)


async def list_gifts(
    actor: Actor,
    *,
    customer_id: UUID | None = None,
    rep_id: UUID | None = None,
    item_id: UUID | None = None,
    over_cap: bool | None = None,
    review_status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> GiftPage:
    filters: list[Any] = []
    for column, value in (
        (Gift.customer_id, customer_id),
        (Gift.rep_id, rep_id),
        (Gift.item_id, item_id),
        (Gift.over_cap, over_cap),
        (Gift.review_status, review_status),
    ):
        if value is not None:
            filters.append(column == value)
    if aware(since, "since"):
        filters.append(Gift.given_at >= since)
    if aware(until, "until"):
        filters.append(Gift.given_at < until)
    items, total = await page(Gift, actor, filters, [Gift.given_at], limit, offset, to_public)
    return GiftPage(items=items, total=total, limit=limit, offset=offset)


async def list_for_customer(actor: Actor, customer_id: UUID, limit: int, offset: int) -> GiftPage:
    await customer_in_scope(actor, customer_id)
    return await list_gifts(actor, customer_id=customer_id, limit=limit, offset=offset)


async def get(actor: Actor, gift_id: UUID) -> GiftPublic:
    return to_public(await row_in_scope(Gift, actor, gift_id, "gift"))


async def create(actor: Actor, data: GiftCreate) -> GiftPublic:
    check_amounts(unit_value=data.unit_value)
    await customer_in_scope(actor, data.customer_id)
    item = (
        await GiftItem.select(GiftItem.id)
        .where(
            GiftItem.id == data.item_id,
            GiftItem.deleted == False,  # noqa: E712
        )
        .first()
    )
    if item is None:
        raise ApiError(400, "validation", "item_id: no such gift item")
    if data.visit_id is not None and not await Visit.exists().where(
        Visit.id == data.visit_id, Visit.customer_id == data.customer_id
    ):
        raise ApiError(400, "validation", "visit_id: not a visit of this customer")
    gift_id = data.id or uuid4()
    row = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None and k != "id"}
    if data.unit_value is not None:
        row["unit_value"] = f"{data.unit_value:.2f}"
    await writes.apply_one(actor, writes.create("gifts", gift_id, row))
    return await get(actor, gift_id)


async def review(actor: Actor, gift_id: UUID, data: GiftReview) -> GiftPublic:
    row = await row_in_scope(Gift, actor, gift_id, "gift")
    values = changed_fields(data)
    await writes.apply_one(actor, writes.put("gifts", gift_id, values, clocks_of(row)))
    return await get(actor, gift_id)


async def delete(actor: Actor, gift_id: UUID) -> None:
    row = await row_in_scope(Gift, actor, gift_id, "gift")
    await writes.apply_one(actor, writes.put("gifts", gift_id, {"deleted": True}, clocks_of(row)))

"""The rows of each CSV export: what the caller may see, with names instead of ids."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from server.imports.csvfile import encode
from server.rest.scope import live, scope_where
from server.rest.values import cents
from server.tables import Customer, Gift, GiftItem, Region, User, Visit
from sync.actor import Actor

CUSTOMER_COLUMNS = (
    "external_id",
    "name",
    "tier",
    "stage",
    "kind",
    "owner_username",
    "region",
    "phone",
    "address",
    "latitude",
    "longitude",
    "key_account",
    "tags",
)


async def _usernames() -> dict[UUID, str]:
    return {u["id"]: u["username"] for u in await User.select(User.id, User.username)}


async def _regions() -> dict[UUID, str]:
    return {r["id"]: r["name"] for r in await Region.select(Region.id, Region.name)}


def tags_cell(raw: Any) -> str:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return ""
    return ";".join(str(t) for t in value) if isinstance(value, list) else ""


async def customers_csv(actor: Actor) -> bytes:
    """The import columns first (an export can be edited and imported back), then ids."""
    users, regions = await _usernames(), await _regions()
    rows = (
        await Customer.select()
        .where(scope_where(Customer, actor), live(Customer))
        .order_by(Customer.name)
        .order_by(Customer.id)
    )
    header = [*CUSTOMER_COLUMNS, "archived", "id", "created_at"]
    return encode(
        header,
        (
            [
                c["external_id"],
                c["name"],
                c["tier"],
                c["stage"],
                c["kind"],
                users.get(c["owner_id"], "") if c["owner_id"] else "",
                regions.get(c["region_id"], "") if c["region_id"] else "",
                c["phone"],
                c["address"],
                c["latitude"],
                c["longitude"],
                c["key_account"],
                tags_cell(c["tags"]),
                c["archived"],
                c["id"],
                c["created_at"].isoformat(),
            ]
            for c in rows
        ),
    )


async def _customer_names(actor: Actor) -> dict[UUID, tuple[str, str]]:
    rows = await Customer.select(Customer.id, Customer.name, Customer.external_id).where(
        scope_where(Customer, actor)
    )
    return {r["id"]: (r["name"], r["external_id"] or "") for r in rows}


async def visits_csv(actor: Actor) -> bytes:
    users, customers = await _usernames(), await _customer_names(actor)
    rows = (
        await Visit.select()
        .where(scope_where(Visit, actor), live(Visit))
        .order_by(Visit.started_at)
        .order_by(Visit.id)
    )
    header = [
        "id",
        "customer_id",
        "customer_external_id",
        "customer_name",
        "rep_username",
        "started_at",
        "ended_at",
        "purpose",
        "outcome",
        "satisfaction",
        "order_value",
        "currency",
        "latitude",
        "longitude",
        "notes",
    ]
    return encode(
        header,
        (
            [
                v["id"],
                v["customer_id"],
                customers.get(v["customer_id"], ("", ""))[1],
                customers.get(v["customer_id"], ("", ""))[0],
                users.get(v["rep_id"], ""),
                v["started_at"].isoformat(),
                v["ended_at"].isoformat() if v["ended_at"] else "",
                v["purpose"],
                v["outcome"],
                v["satisfaction"],
                cents(v["order_value"]),
                v["currency"],
                v["latitude"],
                v["longitude"],
                v["notes"],
            ]
            for v in rows
        ),
    )


async def gifts_csv(actor: Actor) -> bytes:
    users, customers = await _usernames(), await _customer_names(actor)
    items = {
        i["id"]: (i["name_en"], i["name_zh"])
        for i in await GiftItem.select(GiftItem.id, GiftItem.name_en, GiftItem.name_zh)
    }
    rows = (
        await Gift.select()
        .where(scope_where(Gift, actor), live(Gift))
        .order_by(Gift.given_at)
        .order_by(Gift.id)
    )
    header = [
        "id",
        "customer_id",
        "customer_external_id",
        "customer_name",
        "rep_username",
        "item_en",
        "item_zh",
        "quantity",
        "unit_value",
        "total_value",
        "currency",
        "given_at",
        "over_cap",
        "review_status",
        "review_comment",
    ]
    return encode(
        header,
        (
            [
                g["id"],
                g["customer_id"],
                customers.get(g["customer_id"], ("", ""))[1],
                customers.get(g["customer_id"], ("", ""))[0],
                users.get(g["rep_id"], ""),
                items.get(g["item_id"], ("", ""))[0],
                items.get(g["item_id"], ("", ""))[1],
                g["quantity"],
                cents(g["unit_value"]),
                cents(g["unit_value"] * g["quantity"]),
                g["currency"],
                g["given_at"].isoformat(),
                g["over_cap"],
                g["review_status"],
                g["review_comment"],
            ]
            for g in rows
        ),
    )

"""Regions, cadence rules and the gift catalog: global reference data, written through
the sync engine (admin ``create``/``put`` mutations) so every device receives it."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from piccolo.table import Table

from server.admin.schemas import (
    CadenceRuleCreate,
    CadenceRulePublic,
    CadenceRuleUpdate,
    GiftItemCreate,
    GiftItemPublic,
    GiftItemUpdate,
    RegionCreate,
    RegionPublic,
    RegionUpdate,
)
from server.errors import ApiError, not_found
from server.rest import writes
from server.rest.values import cents, changed_fields, check_amounts, clocks_of
from server.tables import CadenceRule, Customer, GiftItem, Region, User
from sync.actor import Actor


def check_time_zone(name: str, field: str = "time_zone") -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, "validation", f"{field}: unknown time zone {name!r}") from None


async def _live(table: type[Table], row_id: UUID, what: str) -> dict[str, Any]:
    row = (
        await table.select()
        .where(
            table._meta.primary_key == row_id,
            table.deleted == False,  # type: ignore[attr-defined]  # noqa: E712
        )
        .first()
    )
    if row is None:
        raise not_found(what)
    return row  # type: ignore[no-any-return]


def _body(data: msgspec.Struct) -> dict[str, Any]:
    row = msgspec.structs.asdict(data)
    row.pop("id", None)
    return row


# --- regions -----------------------------------------------------------------------------


async def list_regions() -> list[RegionPublic]:
    rows = await Region.select().where(Region.deleted == False).order_by(Region.name)  # noqa: E712
    return [msgspec.convert(r, RegionPublic, from_attributes=False) for r in rows]


async def get_region(region_id: UUID) -> RegionPublic:
    return msgspec.convert(await _live(Region, region_id, "region"), RegionPublic)


async def _name_free(name: str, except_id: UUID | None = None) -> None:
    query = Region.exists().where(Region.name == name)
    if except_id is not None:
        query = query.where(Region.id != except_id)
    if await query:
        raise ApiError(409, "conflict", "name: a region with this name exists")


async def create_region(actor: Actor, data: RegionCreate) -> RegionPublic:
    if data.id is not None and await Region.exists().where(Region.id == data.id):
        return await get_region(data.id)  # a retried create (R-CREATE-1)
    check_time_zone(data.time_zone)
    await _name_free(data.name)
    region_id = data.id or uuid4()
    await writes.apply_one(actor, writes.create("regions", region_id, _body(data)))
    return await get_region(region_id)


async def update_region(actor: Actor, region_id: UUID, data: RegionUpdate) -> RegionPublic:
    row = await _live(Region, region_id, "region")
    values = changed_fields(data)
    if "time_zone" in values:
        check_time_zone(values["time_zone"])
    if "name" in values:
        await _name_free(values["name"], except_id=region_id)
    await writes.apply_one(actor, writes.put("regions", region_id, values, clocks_of(row)))
    return await get_region(region_id)


async def delete_region(actor: Actor, region_id: UUID) -> None:
    """Only an empty region goes: users and customers must be moved first."""
    row = await _live(Region, region_id, "region")
    users = await User.count().where(User.region_id == region_id, User.active == True)  # noqa: E712
    customers = await Customer.count().where(Customer.region_id == region_id)
    if users or customers:
        raise ApiError(
            409,
            "region_in_use",
            f"the region still has {users} active users and {customers} customers",
        )
    await writes.apply_one(
        actor, writes.put("regions", region_id, {"deleted": True}, clocks_of(row))
    )


# --- cadence rules -----------------------------------------------------------------------


def _rule(row: dict[str, Any]) -> CadenceRulePublic:
    return msgspec.convert(row, CadenceRulePublic, from_attributes=False)


async def list_rules() -> list[CadenceRulePublic]:
    rows = (
        await CadenceRule.select()
        .where(CadenceRule.deleted == False)  # noqa: E712
        .order_by(CadenceRule.tier)
        .order_by(CadenceRule.id)
    )
    return [_rule(r) for r in rows]


async def get_rule(rule_id: UUID) -> CadenceRulePublic:
    return _rule(await _live(CadenceRule, rule_id, "cadence rule"))


async def _rule_key_free(
    tier: str, region_id: UUID | None, stage: str | None, except_id: UUID | None
) -> None:
    """One live rule per (tier, region, stage): otherwise precedence would be a coin toss."""
    query = CadenceRule.exists().where(CadenceRule.tier == tier, CadenceRule.deleted == False)  # noqa: E712
    query = query.where(
        CadenceRule.region_id.is_null() if region_id is None else CadenceRule.region_id == region_id
    )
    query = query.where(
        CadenceRule.stage.is_null() if stage is None else CadenceRule.stage == stage
    )
    if except_id is not None:
        query = query.where(CadenceRule.id != except_id)
    if await query:
        raise ApiError(409, "conflict", "a rule for this tier, region and stage exists already")


async def _region_exists(region_id: UUID | None) -> None:
    if region_id is not None and not await Region.exists().where(
        Region.id == region_id,
        Region.deleted == False,  # noqa: E712
    ):
        raise ApiError(400, "validation", "region_id: no such region")


async def create_rule(actor: Actor, data: CadenceRuleCreate) -> CadenceRulePublic:
    if data.id is not None and await CadenceRule.exists().where(CadenceRule.id == data.id):
        return await get_rule(data.id)  # a retried create (R-CREATE-1)
    await _region_exists(data.region_id)
    await _rule_key_free(data.tier, data.region_id, data.stage, None)
    rule_id = data.id or uuid4()
    await writes.apply_one(actor, writes.create("cadence_rules", rule_id, _body(data)))
    return await get_rule(rule_id)


async def update_rule(actor: Actor, rule_id: UUID, data: CadenceRuleUpdate) -> CadenceRulePublic:
    row = await _live(CadenceRule, rule_id, "cadence rule")
    values = changed_fields(data)
    if "region_id" in values:
        await _region_exists(values["region_id"])
    merged = {**row, **values}
    await _rule_key_free(merged["tier"], merged["region_id"], merged["stage"], rule_id)
    await writes.apply_one(actor, writes.put("cadence_rules", rule_id, values, clocks_of(row)))
    return await get_rule(rule_id)


async def delete_rule(actor: Actor, rule_id: UUID) -> None:
    row = await _live(CadenceRule, rule_id, "cadence rule")
    await writes.apply_one(
        actor, writes.put("cadence_rules", rule_id, {"deleted": True}, clocks_of(row))
    )


# --- gift catalog ------------------------------------------------------------------------


def _item(row: dict[str, Any]) -> GiftItemPublic:
    money = {"unit_value": cents(row["unit_value"]), "yearly_cap": cents(row["yearly_cap"])}
    return msgspec.convert({**row, **money}, GiftItemPublic)


async def list_items(*, active_only: bool) -> list[GiftItemPublic]:
    query = GiftItem.select().where(GiftItem.deleted == False)  # noqa: E712
    if active_only:
        query = query.where(GiftItem.active == True)  # noqa: E712
    return [_item(r) for r in await query.order_by(GiftItem.name_en).order_by(GiftItem.id)]


async def get_item(item_id: UUID) -> GiftItemPublic:
    return _item(await _live(GiftItem, item_id, "gift item"))


async def create_item(actor: Actor, data: GiftItemCreate) -> GiftItemPublic:
    check_amounts(unit_value=data.unit_value, yearly_cap=data.yearly_cap)
    item_id = data.id or uuid4()
    await writes.apply_one(actor, writes.create("gift_items", item_id, _body(data)))
    return await get_item(item_id)


async def update_item(actor: Actor, item_id: UUID, data: GiftItemUpdate) -> GiftItemPublic:
    row = await _live(GiftItem, item_id, "gift item")
    values = changed_fields(data)
    check_amounts(unit_value=values.get("unit_value"), yearly_cap=values.get("yearly_cap"))
    await writes.apply_one(actor, writes.put("gift_items", item_id, values, clocks_of(row)))
    return await get_item(item_id)


async def delete_item(actor: Actor, item_id: UUID) -> None:
    """A tombstone; past gifts keep their item id and value. Prefer ``active: false``."""
    row = await _live(GiftItem, item_id, "gift item")
    await writes.apply_one(
        actor, writes.put("gift_items", item_id, {"deleted": True}, clocks_of(row))
    )

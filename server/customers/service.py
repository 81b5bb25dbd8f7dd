"""Customer queries and decisions; writes go through the sync engine (server.rest.writes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.columns.combination import WhereRaw

from server.customers.schemas import (
    BulkReassign,
    ContactBrief,
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerPublic,
    CustomerUpdate,
    PlannedBrief,
    ReassignResult,
    TimelineEntry,
)
from server.errors import ApiError, not_found
from server.rest import writes
from server.rest.scope import customer_in_scope, live, scope_where
from server.rest.values import cents, changed_fields, check_text, clocks_of
from server.tables import Contact, Customer, Gift, GiftItem, Note, PlannedRevisit, User, Visit
from sync.actor import Actor

TIMELINE_PER_KIND = 50
TIMELINE_MAX = 100


@dataclass(frozen=True)
class CustomerFilters:
    q: str | None = None
    tier: str | None = None
    stage: str | None = None
    kind: str | None = None
    owner_id: UUID | None = None
    archived: bool | None = False
    overdue: bool | None = None


def like_pattern(text: str) -> str:
    """A LIKE pattern that matches ``text`` literally anywhere (``%``/``_`` escaped)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _overdue_ids(today: date) -> Any:
    return PlannedRevisit.select(PlannedRevisit.customer_id).where(
        PlannedRevisit.status == "planned",
        PlannedRevisit.deleted == False,  # noqa: E712
        PlannedRevisit.due_date < today,
    )


def _conditions(actor: Actor, f: CustomerFilters, today: date) -> list[Any]:
    where: list[Any] = [scope_where(Customer, actor), live(Customer)]
    if f.q:
        check_text(f.q, "q")
        pattern = like_pattern(f.q.strip())
        where.append(
            WhereRaw(
                "(lower(name) LIKE {} ESCAPE '\\' OR lower(phone) LIKE {} ESCAPE '\\')",
                pattern,
                pattern,
            )
        )
    if f.tier:
        where.append(Customer.tier == f.tier)
    if f.stage:
        where.append(Customer.stage == f.stage)
    if f.kind:
        where.append(Customer.kind == f.kind)
    if f.owner_id:
        where.append(Customer.owner_id == f.owner_id)
    if f.archived is not None:
        where.append(Customer.archived == f.archived)
    if f.overdue is True:
        where.append(Customer.id.is_in(_overdue_ids(today)))
    elif f.overdue is False:
        where.append(Customer.id.not_in(_overdue_ids(today)))
    return where


def to_public(
    row: dict[str, Any], next_due: date | None = None, today: date | None = None
) -> CustomerPublic:
    data = {k: row[k] for k in CustomerPublic.__struct_fields__ if k in row}
    data["tags"] = _tags(row.get("tags"))
    data["next_visit_due"] = next_due
    data["overdue"] = bool(next_due and today and next_due < today)
    return msgspec.convert(data, CustomerPublic, from_attributes=False, strict=False)


def _tags(raw: Any) -> list[str]:
    """Tags are kept as a JSON list in a text column."""
    if isinstance(raw, list):
        return [str(t) for t in raw]
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(t) for t in value] if isinstance(value, list) else []


async def _next_due(customer_ids: list[UUID]) -> dict[UUID, date]:
    if not customer_ids:
        return {}
    rows = await PlannedRevisit.select(PlannedRevisit.customer_id, PlannedRevisit.due_date).where(
        PlannedRevisit.customer_id.is_in(customer_ids),
        PlannedRevisit.status == "planned",
        live(PlannedRevisit),
    )
    soonest: dict[UUID, date] = {}
    for r in rows:
        cid, due = r["customer_id"], r["due_date"]
        if cid not in soonest or due < soonest[cid]:
            soonest[cid] = due
    return soonest


async def list_customers(
    actor: Actor, filters: CustomerFilters, today: date, limit: int, offset: int
) -> CustomerPage:
    where = _conditions(actor, filters, today)
    total = await Customer.count().where(*where)
    rows = (
        await Customer.select()
        .where(*where)
        .order_by(Customer.name, Customer.id)
        .limit(limit)
        .offset(offset)
    )
    due = await _next_due([r["id"] for r in rows])
    items = [to_public(r, due.get(r["id"]), today) for r in rows]
    return CustomerPage(items=items, total=total, limit=limit, offset=offset)


async def get_public(actor: Actor, customer_id: UUID, today: date) -> CustomerPublic:
    row = await customer_in_scope(actor, customer_id)
    due = await _next_due([customer_id])
    return to_public(row, due.get(customer_id), today)


async def get_detail(actor: Actor, customer_id: UUID, today: date) -> CustomerDetail:
    row = await customer_in_scope(actor, customer_id)
    contacts = (
        await Contact.select(Contact.id, Contact.name, Contact.title, Contact.phone, Contact.email)
        .where(Contact.customer_id == customer_id, live(Contact))
        .order_by(Contact.name)
    )
    planned = (
        await PlannedRevisit.select(
            PlannedRevisit.id,
            PlannedRevisit.due_date,
            PlannedRevisit.source,
            PlannedRevisit.status,
            PlannedRevisit.rep_id,
        )
        .where(
            PlannedRevisit.customer_id == customer_id,
            PlannedRevisit.status == "planned",
            live(PlannedRevisit),
        )
        .order_by(PlannedRevisit.due_date)
        .first()
    )
    owner = None
    if row["owner_id"]:
        found = await User.select(User.display_name).where(User.id == row["owner_id"]).first()
        owner = found["display_name"] if found else None
    return CustomerDetail(
        customer=to_public(row, planned["due_date"] if planned else None, today),
        contacts=[msgspec.convert(c, ContactBrief) for c in contacts],
        next_planned=msgspec.convert(planned, PlannedBrief) if planned else None,
        timeline=await timeline(customer_id),
        owner_name=owner,
    )


async def timeline(customer_id: UUID) -> list[TimelineEntry]:
    """Visits, gifts and notes of one customer, newest first."""
    visits = (
        await Visit.select()
        .where(Visit.customer_id == customer_id, live(Visit))
        .order_by(Visit.started_at, ascending=False)
        .limit(TIMELINE_PER_KIND)
    )
    gifts = (
        await Gift.select()
        .where(Gift.customer_id == customer_id, live(Gift))
        .order_by(Gift.given_at, ascending=False)
        .limit(TIMELINE_PER_KIND)
    )
    notes = (
        await Note.select()
        .where(Note.customer_id == customer_id, live(Note))
        .order_by(Note.created_at, ascending=False)
        .limit(TIMELINE_PER_KIND)
    )
    item_ids = list({g["item_id"] for g in gifts})
    names: dict[UUID, str] = {}
    if item_ids:
        for item in await GiftItem.select(GiftItem.id, GiftItem.name_en).where(
            GiftItem.id.is_in(item_ids)
        ):
            names[item["id"]] = item["name_en"]
    entries = [
        TimelineEntry(
            type="visit",
            id=v["id"],
            at=v["started_at"],
            by=v["rep_id"],
            summary=v["outcome"] or v["purpose"],
            kind=v["purpose"],
            satisfaction=v["satisfaction"],
            order_value=cents(v["order_value"]),
        )
        for v in visits
    ]
    entries += [
        TimelineEntry(
            type="gift",
            id=g["id"],
            at=g["given_at"],
            by=g["rep_id"],
            summary=f"{g['quantity']} x {names.get(g['item_id'], 'gift')}",
            quantity=g["quantity"],
            value=cents(g["unit_value"] * g["quantity"]),
            over_cap=g["over_cap"],
            status=g["review_status"],
            item_id=g["item_id"],
        )
        for g in gifts
    ]
    entries += [
        TimelineEntry(
            type="note",
            id=n["id"],
            at=n["created_at"],
            by=n["author_id"],
            summary=n["body"][:200],
            kind=n["kind"],
            status=n["status"],
        )
        for n in notes
    ]
    entries.sort(key=lambda e: (e.at, str(e.id)), reverse=True)
    return entries[:TIMELINE_MAX]


# --- writes ---------------------------------------------------------------------------


async def _active_rep(rep_id: UUID) -> dict[str, Any] | None:
    active = (User.active == True) & (User.deleted == False)  # noqa: E712
    row = (
        await User.select(User.id, User.region_id)
        .where(User.id == rep_id, User.role == "rep", active)
        .first()
    )
    return row  # type: ignore[no-any-return]


async def _placement(actor: Actor, data: CustomerCreate) -> tuple[UUID | None, UUID]:
    """Who owns a new customer and in which region (R-SCOPE-1)."""
    if actor.role == "rep":
        if (data.owner_id not in (None, actor.user_id)) or (
            data.region_id not in (None, actor.region_id)
        ):
            raise ApiError(403, "out_of_scope", "a rep's new customer belongs to the rep")
        assert actor.region_id is not None
        return actor.user_id, actor.region_id
    if actor.role == "manager" and data.region_id not in (None, actor.region_id):
        raise ApiError(
            403, "out_of_scope", "region_id: a manager creates customers in their own region"
        )
    owner_id = data.owner_id
    if owner_id is not None:
        rep = await _active_rep(owner_id)
        allowed = rep is not None and (actor.role == "admin" or rep["region_id"] == actor.region_id)
        if rep is None or not allowed:
            raise ApiError(400, "invalid_owner", "owner_id: not an active rep in your scope")
        if data.region_id is not None and data.region_id != rep["region_id"]:
            raise ApiError(400, "validation", "region_id: differs from the owner's region")
        return owner_id, rep["region_id"]
    region_id = data.region_id or actor.region_id
    if region_id is None:
        raise ApiError(400, "validation", "region_id: required when owner_id is not given")
    from server.tables import Region

    if not await Region.exists().where(Region.id == region_id, Region.deleted == False):  # noqa: E712
        raise ApiError(400, "validation", "region_id: no such region")
    return None, region_id


async def _external_id_free(external_id: str | None, except_id: UUID | None = None) -> None:
    if external_id is None:
        return
    query = Customer.exists().where(Customer.external_id == external_id)
    if except_id is not None:
        query = query.where(Customer.id != except_id)
    if await query:
        raise ApiError(409, "conflict", "external_id: already used by another customer")


async def create_customer(actor: Actor, data: CustomerCreate, today: date) -> CustomerPublic:
    if data.id is not None and await Customer.exists().where(Customer.id == data.id):
        return await get_public(actor, data.id, today)  # a retried create (R-CREATE-1)
    owner_id, region_id = await _placement(actor, data)
    await _external_id_free(data.external_id)
    customer_id = data.id or uuid4()
    row = msgspec.structs.asdict(data)
    row.pop("id")
    row.update(owner_id=owner_id, region_id=region_id)
    await writes.apply_one(actor, writes.create("customers", customer_id, row))
    return await get_public(actor, customer_id, today)


async def update_customer(
    actor: Actor, customer_id: UUID, data: CustomerUpdate, today: date
) -> CustomerPublic:
    row = await customer_in_scope(actor, customer_id)
    values = changed_fields(data)
    if isinstance(values.get("external_id"), str):
        await _external_id_free(values["external_id"], except_id=customer_id)
    await writes.apply_one(actor, writes.put("customers", customer_id, values, clocks_of(row)))
    return await get_public(actor, customer_id, today)


async def reassign(actor: Actor, data: BulkReassign) -> ReassignResult:
    """Move customers (and, in the engine, all their rows) to another rep.

    A manager moves within the own region; an admin may move a customer to a rep of any
    region, and the customer moves to that region with everything it has (R-CMD-1)."""
    if actor.role == "rep":
        raise ApiError(403, "forbidden", "reps cannot reassign customers")
    ids = list(dict.fromkeys(data.customer_ids))
    rows = await Customer.select(Customer.id, Customer.region_id).where(
        Customer.id.is_in(ids), scope_where(Customer, actor)
    )
    found = {r["id"]: r for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(f"customer {missing[0]}")
    rep = await _active_rep(data.to_rep_id)
    if rep is None or (actor.role == "manager" and rep["region_id"] != actor.region_id):
        raise ApiError(400, "invalid_target", "to_rep_id: not an active rep of your region")
    mutations = [
        writes.command("reassign_customer", {"customer_id": cid, "to_rep_id": data.to_rep_id})
        for cid in ids
    ]
    await writes.apply(actor, mutations)
    return ReassignResult(moved=ids, to_rep_id=data.to_rep_id, region_id=rep["region_id"])

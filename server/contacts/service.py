"""Contacts of customers in scope; every write is a sync mutation."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import msgspec

from server.contacts.schemas import ContactCreate, ContactPublic, ContactUpdate
from server.rest import writes
from server.rest.scope import customer_in_scope, live, row_in_scope
from server.rest.values import changed_fields, clocks_of
from server.tables import Contact
from sync.actor import Actor


def to_public(row: dict[str, Any]) -> ContactPublic:
    return msgspec.convert(row, ContactPublic, from_attributes=False)


async def list_for_customer(actor: Actor, customer_id: UUID) -> list[ContactPublic]:
    await customer_in_scope(actor, customer_id)
    rows = (
        await Contact.select()
        .where(Contact.customer_id == customer_id, live(Contact))
        .order_by(Contact.name)
        .order_by(Contact.id)
    )
    return [to_public(r) for r in rows]


async def get(actor: Actor, contact_id: UUID) -> ContactPublic:
    return to_public(await row_in_scope(Contact, actor, contact_id, "contact"))


async def create(actor: Actor, customer_id: UUID, data: ContactCreate) -> ContactPublic:
    await customer_in_scope(actor, customer_id)
    contact_id = data.id or uuid4()
    row = msgspec.structs.asdict(data)
    row.pop("id")
    row["customer_id"] = customer_id
    await writes.apply_one(actor, writes.create("contacts", contact_id, row))
    return await get(actor, contact_id)


async def update(actor: Actor, contact_id: UUID, data: ContactUpdate) -> ContactPublic:
    row = await row_in_scope(Contact, actor, contact_id, "contact")
    values = changed_fields(data)
    await writes.apply_one(actor, writes.put("contacts", contact_id, values, clocks_of(row)))
    return await get(actor, contact_id)


async def delete(actor: Actor, contact_id: UUID) -> None:
    """A tombstone (R-DEL-1) that replicates to every device holding the contact."""
    row = await row_in_scope(Contact, actor, contact_id, "contact")
    await writes.apply_one(
        actor, writes.put("contacts", contact_id, {"deleted": True}, clocks_of(row))
    )

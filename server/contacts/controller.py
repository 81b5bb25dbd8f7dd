"""Contacts: ``/api/customers/{id}/contacts`` and ``/api/contacts/{id}``."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.contacts import service
from server.contacts.schemas import ContactCreate, ContactPublic, ContactUpdate
from sync.actor import Actor


class ContactController(Controller):
    path = "/api"
    tags = ["contacts"]

    @get("/customers/{customer_id:uuid}/contacts", summary="Contacts of a customer")
    async def list_contacts(
        self, actor: NamedDependency[Actor], customer_id: FromPath[UUID]
    ) -> list[ContactPublic]:
        return await service.list_for_customer(actor, customer_id)

    @post("/customers/{customer_id:uuid}/contacts", summary="Add a contact to a customer")
    async def create_contact(
        self,
        actor: NamedDependency[Actor],
        customer_id: FromPath[UUID],
        data: JSONBody[ContactCreate],
    ) -> ContactPublic:
        return await service.create(actor, customer_id, data)

    @get("/contacts/{contact_id:uuid}", summary="One contact")
    async def get_contact(
        self, actor: NamedDependency[Actor], contact_id: FromPath[UUID]
    ) -> ContactPublic:
        return await service.get(actor, contact_id)

    @patch("/contacts/{contact_id:uuid}", summary="Edit a contact")
    async def update_contact(
        self,
        actor: NamedDependency[Actor],
        contact_id: FromPath[UUID],
        data: JSONBody[ContactUpdate],
    ) -> ContactPublic:
        return await service.update(actor, contact_id, data)

    @delete("/contacts/{contact_id:uuid}", summary="Delete a contact (a tombstone)")
    async def delete_contact(
        self, actor: NamedDependency[Actor], contact_id: FromPath[UUID]
    ) -> None:
        await service.delete(actor, contact_id)

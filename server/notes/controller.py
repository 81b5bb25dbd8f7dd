"""``/api/notes`` and ``/api/customers/{id}/notes``."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from server.notes import service
from server.notes.schemas import NoteCreate, NoteKind, NotePage, NotePublic, NoteStatus, NoteUpdate
from server.rest.clock import utcnow
from server.rest.paging import Limit, Offset
from sync.actor import Actor


class NoteController(Controller):
    path = "/api"
    tags = ["notes"]

    @get(
        "/notes", summary="Notes in scope, newest first (kind=complaint&status=open for the queue)"
    )
    async def list_notes(
        self,
        actor: NamedDependency[Actor],
        customer_id: FromQuery[UUID | None] = None,
        author_id: FromQuery[UUID | None] = None,
        kind: FromQuery[NoteKind | None] = None,
        status: FromQuery[NoteStatus | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> NotePage:
        return await service.list_notes(
            actor,
            customer_id=customer_id,
            author_id=author_id,
            kind=kind,
            status=status,
            limit=limit,
            offset=offset,
        )

    @get("/customers/{customer_id:uuid}/notes", summary="Notes of one customer")
    async def list_customer_notes(
        self,
        actor: NamedDependency[Actor],
        customer_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> NotePage:
        return await service.list_for_customer(actor, customer_id, limit, offset)

    @post("/notes", summary="Write a note, feedback or complaint")
    async def create_note(
        self, actor: NamedDependency[Actor], data: JSONBody[NoteCreate]
    ) -> NotePublic:
        return await service.create(actor, data)

    @get("/notes/{note_id:uuid}", summary="One note")
    async def get_note(self, actor: NamedDependency[Actor], note_id: FromPath[UUID]) -> NotePublic:
        return await service.get(actor, note_id)

    @patch("/notes/{note_id:uuid}", summary="Resolve or reopen a complaint")
    async def update_note(
        self,
        actor: NamedDependency[Actor],
        note_id: FromPath[UUID],
        data: JSONBody[NoteUpdate],
    ) -> NotePublic:
        return await service.update(actor, note_id, data, utcnow())

    @delete("/notes/{note_id:uuid}", summary="Delete a note (a tombstone)")
    async def delete_note(self, actor: NamedDependency[Actor], note_id: FromPath[UUID]) -> None:
        await service.delete(actor, note_id)

"""Notes in scope: list, write (a sync ``create``), resolve complaints, delete (a tombstone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from server.errors import ApiError
from server.notes.schemas import NoteCreate, NotePage, NotePublic, NoteUpdate
from server.rest import writes
from server.rest.listing import page
from server.rest.scope import customer_in_scope, row_in_scope
from server.rest.values import changed_fields, clocks_of
from server.tables import Note
from sync.actor import Actor


def to_public(row: dict[str, Any]) -> NotePublic:
    return msgspec.convert(row, NotePublic, from_attributes=False)


async def list_notes(
    actor: Actor,
    *,
    customer_id: UUID | None = None,
    author_id: UUID | None = None,
    kind: str | None = None,
    status: str | None = None,
    limit: int,
    offset: int,
) -> NotePage:
    filters: list[Any] = []
    for column, value in (
        (Note.customer_id, customer_id),
        (Note.author_id, author_id),
        (Note.kind, kind),
        (Note.status, status),
    ):
        if value is not None:
            filters.append(column == value)
    items, total = await page(Note, actor, filters, [Note.created_at], limit, offset, to_public)
    return NotePage(items=items, total=total, limit=limit, offset=offset)


async def list_for_customer(actor: Actor, customer_id: UUID, limit: int, offset: int) -> NotePage:
    await customer_in_scope(actor, customer_id)
    return await list_notes(actor, customer_id=customer_id, limit=limit, offset=offset)


async def get(actor: Actor, note_id: UUID) -> NotePublic:
    return to_public(await row_in_scope(Note, actor, note_id, "note"))


async def create(actor: Actor, data: NoteCreate) -> NotePublic:
    await customer_in_scope(actor, data.customer_id)
    if data.status is not None and data.kind != "complaint":
        raise ApiError(400, "validation", "status: only complaints have a status")
    note_id = data.id or uuid4()
    row = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None and k != "id"}
    await writes.apply_one(actor, writes.create("notes", note_id, row))
    return await get(actor, note_id)


async def update(actor: Actor, note_id: UUID, data: NoteUpdate, now: datetime) -> NotePublic:
    row = await row_in_scope(Note, actor, note_id, "note")
    values = changed_fields(data)
    if row["kind"] != "complaint":
        raise ApiError(400, "validation", "status: only complaints have a status")
    if values.get("status") == "resolved" and values.get("resolved_at") is None:
        values["resolved_at"] = row["resolved_at"] or now
    if values.get("status") == "open":
        values["resolved_at"] = None
    if values.get("resolved_at") is not None and values.get("status", row["status"]) != "resolved":
        raise ApiError(400, "validation", "resolved_at: only a resolved complaint has one")
    await writes.apply_one(actor, writes.put("notes", note_id, values, clocks_of(row)))
    return await get(actor, note_id)


async def delete(actor: Actor, note_id: UUID) -> None:
    row = await row_in_scope(Note, actor, note_id, "note")
    await writes.apply_one(actor, writes.put("notes", note_id, {"deleted": True}, clocks_of(row)))

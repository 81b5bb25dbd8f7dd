"""Wire types of the note endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

NoteKind = Literal["note", "complaint", "feedback"]
NoteStatus = Literal["open", "resolved"]


class NoteCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A complaint without ``status`` starts ``open`` (R-CREATE-4)."""

    customer_id: UUID
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=10000)]
    id: UUID | None = None
    kind: NoteKind = "note"
    status: NoteStatus | None = None


class NoteUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Resolve or reopen a complaint; ``resolved_at`` defaults to now on resolve."""

    status: NoteStatus | msgspec.UnsetType = msgspec.UNSET
    resolved_at: Annotated[datetime, msgspec.Meta(tz=True)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )


class NotePublic(msgspec.Struct):
    id: UUID
    customer_id: UUID
    author_id: UUID
    kind: str
    body: str
    status: str | None
    resolved_at: datetime | None
    created_at: datetime


class NotePage(msgspec.Struct):
    items: list[NotePublic]
    total: int
    limit: int
    offset: int

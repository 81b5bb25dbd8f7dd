"""Wire types of the contact endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Title = Annotated[str, msgspec.Meta(max_length=120)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Email = Annotated[str, msgspec.Meta(max_length=200)]


class ContactCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    id: UUID | None = None
    title: Title = ""
    phone: Phone = ""
    email: Email = ""


class ContactUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    title: Title | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType = msgspec.UNSET


class ContactPublic(msgspec.Struct):
    id: UUID
    customer_id: UUID
    name: str
    title: str
    phone: str
    email: str
    created_at: datetime

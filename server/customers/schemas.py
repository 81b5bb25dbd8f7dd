"""Wire types of the customer endpoints (enums and ranges of R-SCHEMA-4)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Tier = Literal["A", "B", "C"]
Stage = Literal["prospect", "contacted", "active", "key", "at_risk", "lost"]
Kind = Literal["consumer", "business", "channel", "internal"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Address = Annotated[str, msgspec.Meta(max_length=500)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50)]
Preferences = Annotated[str, msgspec.Meta(max_length=4000)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``id`` may be chosen by the client (a UUID) so a retried create is not doubled."""

    name: Name
    tier: Tier
    id: UUID | None = None
    kind: Kind = "business"
    key_account: bool = False
    stage: Stage = "prospect"
    address: Address = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    phone: Phone = ""
    tags: Tags = msgspec.field(default_factory=list)
    preferences: Preferences = ""
    external_id: ExternalId | None = None
    owner_id: UUID | None = None
    region_id: UUID | None = None


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields present are written (each is its own LWW register)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    kind: Kind | msgspec.UnsetType = msgspec.UNSET
    tier: Tier | msgspec.UnsetType = msgspec.UNSET
    key_account: bool | msgspec.UnsetType = msgspec.UNSET
    stage: Stage | msgspec.UnsetType = msgspec.UNSET
    address: Address | msgspec.UnsetType = msgspec.UNSET
    latitude: Latitude | msgspec.UnsetType | None = msgspec.UNSET
    longitude: Longitude | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    preferences: Preferences | msgspec.UnsetType = msgspec.UNSET
    external_id: ExternalId | msgspec.UnsetType | None = msgspec.UNSET
    archived: bool | msgspec.UnsetType = msgspec.UNSET


class CustomerPublic(msgspec.Struct):
    id: UUID
    name: str
    kind: str
    tier: str
    key_account: bool
    stage: str
    owner_id: UUID | None
    region_id: UUID | None
    address: str
    latitude: float | None
    longitude: float | None
    phone: str
    tags: list[str]
    preferences: str
    external_id: str | None
    archived: bool
    created_at: datetime
    next_visit_due: date | None = None
    overdue: bool = False


class CustomerPage(msgspec.Struct):
    items: list[CustomerPublic]
    total: int
    limit: int
    offset: int


class ContactBrief(msgspec.Struct):
    id: UUID
    name: str
    title: str
    phone: str
    email: str


class PlannedBrief(msgspec.Struct):
    id: UUID
    due_date: date
    source: str
    status: str
    rep_id: UUID | None


class TimelineEntry(msgspec.Struct):
    """One visit, gift or note, newest first; ``summary`` is ready to show."""

    type: Literal["visit", "gift", "note"]
    id: UUID
    at: datetime
    by: UUID | None
    summary: str
    kind: str | None = None
    status: str | None = None
    satisfaction: int | None = None
    order_value: Decimal | None = None
    quantity: int | None = None
    value: Decimal | None = None
    over_cap: bool | None = None
    item_id: UUID | None = None  # gifts: the client shows the item's name in its language


class CustomerDetail(msgspec.Struct):
    customer: CustomerPublic
    contacts: list[ContactBrief]
    next_planned: PlannedBrief | None
    timeline: list[TimelineEntry]
    owner_name: str | None = None


class Reassign(msgspec.Struct, forbid_unknown_fields=True):
    to_rep_id: UUID


class BulkReassign(msgspec.Struct, forbid_unknown_fields=True):
    customer_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=500)]
    to_rep_id: UUID


class ReassignResult(msgspec.Struct):
    moved: list[UUID]
    to_rep_id: UUID
    region_id: UUID | None

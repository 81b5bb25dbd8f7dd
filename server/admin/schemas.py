"""Wire types of the admin endpoints (ranges of R-SCHEMA-4)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from server.auth.schemas import UserPublic

Role = Literal["rep", "manager", "admin"]
Locale = Literal["en", "zh"]
Tier = Literal["A", "B", "C"]
Stage = Literal["prospect", "contacted", "active", "key", "at_risk", "lost"]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
LocalTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Username = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Money = Decimal
ItemName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
RegionName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
IntervalDays = Annotated[int, msgspec.Meta(ge=1, le=3650)]
LeadDays = Annotated[int, msgspec.Meta(ge=0, le=365)]

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


# --- users -------------------------------------------------------------------------------


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: Role
    region_id: UUID | None = None
    display_name: DisplayName | None = None
    locale: Locale = "en"
    time_zone: TimeZone = "Asia/Shanghai"
    quiet_start: LocalTime = "21:00"
    quiet_end: LocalTime = "08:00"


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``active: false`` deactivates: every token of the user stops working at once."""

    display_name: DisplayName | Unset = UNSET
    role: Role | Unset = UNSET
    region_id: UUID | Unset | None = UNSET
    locale: Locale | Unset = UNSET
    time_zone: TimeZone | Unset = UNSET
    quiet_start: LocalTime | Unset = UNSET
    quiet_end: LocalTime | Unset = UNSET
    active: bool | Unset = UNSET


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    password: Password


class UserAdminView(UserPublic):
    """What an admin sees of a user: the public view plus when the account was made."""

    created_at: datetime


class UserPage(msgspec.Struct):
    items: list[UserAdminView]
    total: int
    limit: int
    offset: int


# --- regions -----------------------------------------------------------------------------


class RegionCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: RegionName
    time_zone: TimeZone = "Asia/Shanghai"
    id: UUID | None = None


class RegionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: RegionName | Unset = UNSET
    time_zone: TimeZone | Unset = UNSET


class RegionPublic(msgspec.Struct):
    id: UUID
    name: str
    time_zone: str


# --- cadence rules -----------------------------------------------------------------------


class CadenceRuleCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A rule for a tier, optionally narrowed to a region and/or a lifecycle stage."""

    tier: Tier
    interval_days: IntervalDays
    reminder_lead_days: LeadDays = 1
    region_id: UUID | None = None
    stage: Stage | None = None
    id: UUID | None = None


class CadenceRuleUpdate(msgspec.Struct, forbid_unknown_fields=True):
    tier: Tier | Unset = UNSET
    interval_days: IntervalDays | Unset = UNSET
    reminder_lead_days: LeadDays | Unset = UNSET
    region_id: UUID | Unset | None = UNSET
    stage: Stage | Unset | None = UNSET


class CadenceRulePublic(msgspec.Struct):
    id: UUID
    tier: str
    region_id: UUID | None
    stage: str | None
    interval_days: int
    reminder_lead_days: int


# --- gift catalog ------------------------------------------------------------------------


class GiftItemCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``yearly_cap`` is the value one customer may receive of this item per calendar year."""

    name_en: ItemName
    name_zh: ItemName
    unit_value: Money
    yearly_cap: Money
    currency: Currency = "CNY"
    active: bool = True
    id: UUID | None = None


class GiftItemUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name_en: ItemName | Unset = UNSET
    name_zh: ItemName | Unset = UNSET
    unit_value: Money | Unset = UNSET
    yearly_cap: Money | Unset = UNSET
    currency: Currency | Unset = UNSET
    active: bool | Unset = UNSET


class GiftItemPublic(msgspec.Struct):
    id: UUID
    name_en: str
    name_zh: str
    unit_value: Decimal
    currency: str
    yearly_cap: Decimal
    active: bool

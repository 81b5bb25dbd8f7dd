"""Wire types of the visit endpoints (ranges of R-SCHEMA-4)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Money = Decimal


class VisitCreate(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: UUID
    started_at: AwareDatetime
    id: UUID | None = None
    planned_for: date | None = None
    ended_at: AwareDatetime | None = None
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    accuracy: Annotated[float, msgspec.Meta(ge=0, le=1e7)] | None = None
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] = "routine"
    outcome: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    satisfaction: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    order_value: Money = Decimal("0")
    currency: Currency = "CNY"
    notes: Annotated[str, msgspec.Meta(max_length=10000)] = ""


class VisitPublic(msgspec.Struct):
    id: UUID
    customer_id: UUID
    rep_id: UUID
    planned_for: date | None
    started_at: datetime
    ended_at: datetime | None
    latitude: float | None
    longitude: float | None
    accuracy: float | None
    purpose: str
    outcome: str
    satisfaction: int | None
    order_value: Decimal
    currency: str
    notes: str
    created_at: datetime


class VisitPage(msgspec.Struct):
    items: list[VisitPublic]
    total: int
    limit: int
    offset: int

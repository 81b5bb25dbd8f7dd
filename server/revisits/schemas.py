"""Wire types of the planned-revisit endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

PlanStatus = Literal["planned", "done", "skipped", "cancelled"]


class PlannedRevisitCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A manual plan; ``rep_id`` defaults to the customer's owner."""

    customer_id: UUID
    due_date: date
    id: UUID | None = None
    rep_id: UUID | None = None


class PlannedRevisitUpdate(msgspec.Struct, forbid_unknown_fields=True):
    due_date: date | msgspec.UnsetType = msgspec.UNSET
    status: PlanStatus | msgspec.UnsetType = msgspec.UNSET


class PlannedRevisitPublic(msgspec.Struct):
    id: UUID
    customer_id: UUID
    rep_id: UUID | None
    due_date: date
    source: str
    status: str
    created_at: datetime
    customer_name: str | None = None
    tier: str | None = None
    overdue: bool = False


class PlannedRevisitPage(msgspec.Struct):
    items: list[PlannedRevisitPublic]
    total: int
    limit: int
    offset: int

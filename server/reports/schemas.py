"""Wire shapes of ``/api/reports/*``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec


class TierCoverage(msgspec.Struct):
    """Customers of one tier that have a cadence rule, and how many were visited in time."""

    tier: str
    customers: int
    visited_within_cadence: int
    share: float | None  # visited / customers; None when the tier has no ruled customer


class RepCoverage(msgspec.Struct):
    rep_id: UUID
    username: str
    display_name: str
    region_id: UUID | None
    active: bool
    customers: int
    coverage: list[TierCoverage]
    overdue: int
    forgotten: int
    visits_this_week: int
    visits_this_month: int
    gift_spend_this_year: Decimal
    gifts_over_cap: int
    gifts_over_cap_pending: int
    avg_satisfaction_90d: float | None
    open_complaints: int
    oldest_open_complaint_days: int | None


class CoverageReport(msgspec.Struct):
    region_id: UUID | None  # None: every region (admins only)
    today: date
    generated_at: datetime
    reps: list[RepCoverage]

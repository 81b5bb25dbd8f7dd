"""Wall time for the REST layer: the one place handlers read the clock (passed down as ``now``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(now: datetime, time_zone: str) -> date:
    """The calendar day of ``now`` where the user is: "overdue" is a local notion."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()

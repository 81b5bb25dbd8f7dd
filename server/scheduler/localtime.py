"""A user's local clock: when a reminder for a local day may go out, outside quiet hours.

Pure functions of ``now``; every instant is timezone-aware (UTC outside, the user's zone
inside). DST gaps and folds are handled by ``zoneinfo`` (a wall time that does not exist is
moved forward by the gap, as ``datetime`` + ``ZoneInfo`` do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from server.planning.cadence import zone

REMINDER_TIME = time(8, 0)  # local wall time at which a day's reminders become due


@dataclass(frozen=True)
class LocalClock:
    """A recipient's time zone and quiet hours (``quiet_start == quiet_end`` = none)."""

    time_zone: str
    quiet_start: time
    quiet_end: time

    @classmethod
    def of(cls, time_zone: str, quiet_start: str, quiet_end: str) -> LocalClock:
        return cls(time_zone, parse_hhmm(quiet_start, time(21, 0)), parse_hhmm(quiet_end, time(8, 0)))

    def today(self, now: datetime) -> date:
        return now.astimezone(zone(self.time_zone)).date()

    def is_quiet(self, instant: datetime) -> bool:
        local = instant.astimezone(zone(self.time_zone)).time().replace(tzinfo=None)
        return in_quiet_hours(local, self.quiet_start, self.quiet_end)

    def next_allowed(self, instant: datetime) -> datetime:
        """``instant`` itself, or the end of the quiet period it falls into (in UTC)."""
        if not self.is_quiet(instant):
            return instant.astimezone(UTC)
        tz = zone(self.time_zone)
        local = instant.astimezone(tz)
        end_today = datetime.combine(local.date(), self.quiet_end, tzinfo=tz)
        end = end_today if end_today > local else end_today + timedelta(days=1)
        end = datetime.combine(end.date(), self.quiet_end, tzinfo=tz)  # re-anchor across DST
        return end.astimezone(UTC)

    def reminder_at(self, day: date, at: time = REMINDER_TIME) -> datetime:
        """When the reminders of local ``day`` go out: ``at`` local, moved out of quiet hours."""
        local = datetime.combine(day, at, tzinfo=zone(self.time_zone))
        return self.next_allowed(local)


def parse_hhmm(value: str | None, default: time) -> time:
    try:
        hours, minutes = (value or "").split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return default


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Quiet from ``start`` (inclusive) to ``end`` (exclusive); may wrap past midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end

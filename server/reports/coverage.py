"""Coverage figures as pure functions of rows and ``now``: no database, no clock.

Cadence matching is ``server.planning.cadence`` (the same rules the planner uses), so a
customer counts as "visited within cadence" exactly when the planner would not yet
consider its next visit due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from server.planning.cadence import CustomerFacts, Rule, local_date, rule_for, zone
from server.reports.schemas import TierCoverage

TIERS = ("A", "B", "C")
SATISFACTION_DAYS = 90


@dataclass(frozen=True)
class Periods:
    """Instants where the caller's week (Monday), month, year and 90-day window begin."""

    week: datetime
    month: datetime
    year: datetime
    satisfaction: datetime


def periods(now: datetime, time_zone: str) -> Periods:
    tz = zone(time_zone)
    today = now.astimezone(tz).date()

    def start(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz)

    return Periods(
        week=start(today - timedelta(days=today.weekday())),
        month=start(today.replace(day=1)),
        year=start(today.replace(month=1, day=1)),
        satisfaction=now - timedelta(days=SATISFACTION_DAYS),
    )


def visited_within(last_visit: datetime | None, interval_days: int, tz: str, today: date) -> bool:
    """The last visit's local day is at most ``interval_days`` before today."""
    if last_visit is None:
        return False
    return (today - local_date(last_visit, tz)).days <= interval_days


def tier_coverage(
    customers: Sequence[CustomerFacts],
    rules: Sequence[Rule],
    last_visits: Mapping[UUID, datetime],
    today: date,
) -> list[TierCoverage]:
    """Per tier: customers under a cadence rule and those visited within its interval.
    Archived customers and customers no rule covers are left out of the share."""
    counts = {tier: [0, 0] for tier in TIERS}
    for customer in customers:
        rule = rule_for(rules, customer)
        if rule is None:
            continue
        cell = counts.setdefault(customer.tier, [0, 0])
        cell[0] += 1
        if visited_within(
            last_visits.get(customer.id), rule.interval_days, customer.time_zone, today
        ):
            cell[1] += 1
    return [
        TierCoverage(
            tier=tier,
            customers=total,
            visited_within_cadence=seen,
            share=round(seen / total, 4) if total else None,
        )
        for tier, (total, seen) in sorted(counts.items())
    ]


def average(values: Iterable[int]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 2) if items else None


def age_days(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, (now - since).days)


def spend(gifts: Iterable[tuple[int, Decimal]]) -> Decimal:
    return sum((Decimal(q) * Decimal(v) for q, v in gifts), Decimal("0")).quantize(Decimal("0.01"))

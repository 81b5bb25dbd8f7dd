"""The dashboard's arithmetic as pure functions of rows and ``now`` (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from server.planning.cadence import CustomerFacts, Rule
from server.reports.coverage import age_days, average, periods, spend, tier_coverage, visited_within

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # Wednesday, noon in Shanghai


def test_periods_start_at_local_midnight() -> None:
    p = periods(NOW, "Asia/Shanghai")
    assert p.week.isoformat() == "2026-11-23T00:00:00+08:00"
    assert p.month.isoformat() == "2026-11-01T00:00:00+08:00"
    assert p.year.isoformat() == "2026-01-01T00:00:00+08:00"
    assert (NOW - p.satisfaction).days == 90


def test_visited_within_counts_local_days() -> None:
    today = date(2026, 11, 25)
    # 2026-11-10 20:00 UTC is already the 11th in Shanghai: 14 days before the 25th
    assert visited_within(datetime(2026, 11, 10, 20, tzinfo=UTC), 14, "Asia/Shanghai", today)
    assert not visited_within(datetime(2026, 11, 10, 10, tzinfo=UTC), 14, "Asia/Shanghai", today)
    assert not visited_within(None, 14, "Asia/Shanghai", today)


def _customer(tier: str, stage: str = "active", archived: bool = False) -> CustomerFacts:
    return CustomerFacts(
        id=uuid4(),
        tier=tier,
        stage=stage,
        region_id=None,
        owner_id=None,
        created_at=NOW,
        archived=archived,
    )


def test_tier_coverage_uses_the_planner_rules() -> None:
    rules = [
        Rule(id=uuid4(), tier="A", interval_days=7),
        Rule(id=uuid4(), tier="A", interval_days=30, stage="prospect"),  # more specific
    ]
    seen, late, prospect, lost, archived, no_rule = (
        _customer("A"),
        _customer("A"),
        _customer("A", stage="prospect"),
        _customer("A", stage="lost"),  # general rules skip lost customers
        _customer("A", archived=True),
        _customer("B"),
    )
    visits = {
        seen.id: datetime(2026, 11, 20, tzinfo=UTC),
        late.id: datetime(2026, 11, 1, tzinfo=UTC),
        prospect.id: datetime(2026, 11, 1, tzinfo=UTC),  # 24 days: within its 30
    }
    result = tier_coverage(
        [seen, late, prospect, lost, archived, no_rule], rules, visits, date(2026, 11, 25)
    )
    assert [(t.tier, t.customers, t.visited_within_cadence, t.share) for t in result] == [
        ("A", 3, 2, 0.6667),
        ("B", 0, 0, None),
        ("C", 0, 0, None),
    ]


def test_small_figures() -> None:
    assert average([4, 2, 5]) == 3.67
    assert average([]) is None
    assert age_days(None, NOW) is None
    assert age_days(datetime(2026, 11, 15, 4, 0, tzinfo=UTC), NOW) == 10
    assert spend([(2, Decimal("120")), (1, Decimal("0.5"))]) == Decimal("240.50")

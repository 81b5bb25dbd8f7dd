"""The coverage dashboard through HTTP: figures per rep, scope per role.

The clock of the reports controller is pinned to ``NOW`` (Wednesday 2026-11-25, noon in
Shanghai), so "this week" starts Monday 2026-11-23 and "this month" on 2026-11-01.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.server.api_data import finalize
from tests.server.world import World

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def at(day: str, hour: int = 2) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, 0, tzinfo=UTC)


@dataclass
class Seeded:
    customers: dict[str, UUID] = field(default_factory=dict)


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("server.reports.controller.utcnow", lambda: NOW)
    return NOW


async def _seed(world: World) -> Seeded:
    from server.tables import CadenceRule, Customer, Gift, GiftItem, Note, PlannedRevisit, Visit

    seeded = Seeded()
    await CadenceRule.insert(
        CadenceRule(id=uuid4(), tier="A", interval_days=14, region_id=None, stage=None),
        CadenceRule(id=uuid4(), tier="B", interval_days=30, region_id=None, stage=None),
    )
    item = uuid4()
    await GiftItem.insert(
        GiftItem(
            id=item,
            name_en="Tea",
            name_zh="茶",
            unit_value=Decimal("120.00"),
            yearly_cap=Decimal("300.00"),
        )
    )

    def own(rep: str) -> dict[str, Any]:
        return {"owner_id": world[rep].id, "region_id": world[rep].region_id}

    spec = [
        ("c1", "rob", "A", False),
        ("c2", "rob", "A", False),
        ("c3", "rob", "B", False),
        ("c4", "rob", "C", False),
        ("c5", "rob", "A", True),
        ("r1", "rita", "A", False),
        ("s1", "sue", "A", False),
    ]
    for key, rep, tier, archived in spec:
        cid = uuid4()
        seeded.customers[key] = cid
        await Customer.insert(
            Customer(
                id=cid,
                name=f"{key} 客户",
                tier=tier,
                stage="active",
                archived=archived,
                created_at=at("2026-01-05"),
                **own(rep),
            )
        )
    c = seeded.customers
    rob, sue = world["rob"].id, world["sue"].id

    def visit(key: str, rep: str, when: datetime, sat: int | None, deleted: bool = False) -> Visit:
        return Visit(
            id=uuid4(),
            customer_id=c[key],
            rep_id=world[rep].id,
            started_at=when,
            satisfaction=sat,
            deleted=deleted,
            **own(rep),
        )

    await Visit.insert(
        visit("c1", "rob", at("2026-11-20"), 4),  # 5 days ago: A within 14
        visit("c1", "rob", at("2026-10-10"), 5),  # older, still inside 90 days
        visit("c2", "rob", at("2026-11-01"), 2),  # 24 days ago: A overdue, but this month
        visit("c2", "rob", at("2026-11-24"), 5, deleted=True),  # a tombstone counts for nothing
        visit("c3", "rob", at("2026-11-24"), None),  # this week: B within 30
        visit("s1", "sue", at("2026-11-24"), 1),
    )

    def plan(key: str, rep: str, due: date, status: str = "planned") -> PlannedRevisit:
        return PlannedRevisit(
            id=uuid4(),
            customer_id=c[key],
            rep_id=world[rep].id,
            due_date=due,
            status=status,
            **own(rep),
        )

    await PlannedRevisit.insert(
        plan("c1", "rob", date(2026, 12, 4)),
        plan("c2", "rob", date(2026, 11, 15)),  # overdue
        plan("c3", "rob", date(2026, 11, 20), status="done"),  # c3 has no open plan: forgotten
        plan("s1", "sue", date(2026, 11, 1)),
    )

    def gift(key: str, when: datetime, qty: int, value: str, over: bool, review: str) -> Gift:
        return Gift(
            id=uuid4(),
            customer_id=c[key],
            rep_id=rob,
            item_id=item,
            quantity=qty,
            unit_value=Decimal(value),
            given_at=when,
            over_cap=over,
            review_status=review,
            **own("rob"),
        )

    await Gift.insert(
        gift("c1", at("2026-03-01"), 2, "120.00", False, "none"),
        gift("c1", at("2026-11-10"), 1, "200.00", True, "pending"),
        gift("c2", at("2025-06-01"), 1, "500.00", True, "approved"),  # last year
    )

    def complaint(key: str, rep: str, when: datetime, status: str) -> Note:
        return Note(
            id=uuid4(),
            customer_id=c[key],
            author_id=world[rep].id,
            kind="complaint",
            body="late delivery",
            status=status,
            created_at=when,
            **own(rep),
        )

    await Note.insert(
        complaint("c1", "rob", at("2026-11-15", 4), "open"),  # 10 days old
        complaint("c2", "rob", at("2026-11-22", 4), "open"),
        complaint("c2", "rob", at("2026-10-01"), "resolved"),
        complaint("s1", "sue", at("2026-11-01"), "open"),
    )
    assert sue  # sue's rows exist so that scope is tested
    await finalize()
    return seeded


@pytest.fixture
async def seeded(world: World, pinned_clock: datetime) -> Seeded:
    return await _seed(world)


def by_rep(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["username"]: r for r in body["reps"]}


async def test_manager_sees_own_region_figures(client: Any, world: World, seeded: Seeded) -> None:
    r = await client.get("/api/reports/coverage", headers=world["ann"].headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region_id"] == str(world.north)
    assert body["today"] == "2026-11-25"
    reps = by_rep(body)
    assert set(reps) == {"rob", "rita"}
    rob = reps["rob"]
    assert rob["customers"] == 4  # the archived one is not counted
    assert rob["coverage"] == [
        {"tier": "A", "customers": 2, "visited_within_cadence": 1, "share": 0.5},
        {"tier": "B", "customers": 1, "visited_within_cadence": 1, "share": 1.0},
        {"tier": "C", "customers": 0, "visited_within_cadence": 0, "share": None},
    ]
    assert rob["overdue"] == 1
    assert rob["forgotten"] == 2  # c3 (plan done) and c4 (never planned)
    assert rob["visits_this_week"] == 1
    assert rob["visits_this_month"] == 3
    assert rob["gift_spend_this_year"] == "440.00"
    assert rob["gifts_over_cap"] == 1
    assert rob["gifts_over_cap_pending"] == 1
    assert rob["avg_satisfaction_90d"] == pytest.approx(3.67)
    assert rob["open_complaints"] == 2
    assert rob["oldest_open_complaint_days"] == 10

    rita = reps["rita"]
    assert rita["customers"] == 1
    assert rita["coverage"][0] == {
        "tier": "A",
        "customers": 1,
        "visited_within_cadence": 0,
        "share": 0.0,
    }
    assert rita["forgotten"] == 1
    assert rita["overdue"] == rita["visits_this_week"] == rita["open_complaints"] == 0
    assert rita["gift_spend_this_year"] == "0.00"
    assert rita["avg_satisfaction_90d"] is None
    assert rita["oldest_open_complaint_days"] is None


async def test_admin_picks_a_region_or_sees_all(client: Any, world: World, seeded: Seeded) -> None:
    ann = (await client.get("/api/reports/coverage", headers=world["ann"].headers)).json()
    h = world["admin"].headers
    north = (await client.get(f"/api/reports/coverage?region_id={world.north}", headers=h)).json()
    assert north["reps"] == ann["reps"]
    everything = (await client.get("/api/reports/coverage", headers=h)).json()
    assert everything["region_id"] is None
    reps = by_rep(everything)
    assert set(reps) == {"rob", "rita", "sue"}
    assert reps["rob"] == by_rep(ann)["rob"]
    assert reps["sue"]["overdue"] == 1 and reps["sue"]["open_complaints"] == 1
    assert reps["sue"]["avg_satisfaction_90d"] == 1.0


async def test_scope_and_roles(client: Any, world: World, seeded: Seeded) -> None:
    r = await client.get("/api/reports/coverage", headers=world["rob"].headers)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    sam = await client.get(
        f"/api/reports/coverage?region_id={world.north}", headers=world["sam"].headers
    )
    assert sam.status_code == 404 and sam.json()["code"] == "not_found"
    own = (await client.get("/api/reports/coverage", headers=world["sam"].headers)).json()
    assert set(by_rep(own)) == {"sue"}
    h = world["admin"].headers
    missing = await client.get(f"/api/reports/coverage?region_id={uuid4()}", headers=h)
    assert missing.status_code == 404
    bad = await client.get("/api/reports/coverage?region_id=north", headers=h)
    assert bad.status_code == 400
    assert (await client.get("/api/reports/coverage")).status_code == 401

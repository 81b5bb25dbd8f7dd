"""The pure cadence engine: rule precedence, recompute triggers, manual override, identity."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from server.planning.cadence import (
    CreatePlan,
    CustomerFacts,
    PlanFact,
    Rule,
    UpdatePlan,
    VisitFact,
    is_forgotten,
    match_rule,
    plan_changes,
    plan_id,
)

NORTH = uuid.UUID("00000000-0000-4000-8000-00000000000a")
SOUTH = uuid.UUID("00000000-0000-4000-8000-00000000000b")
ROB = uuid.UUID("00000000-0000-4000-8000-0000000000f1")
CUSTOMER = uuid.UUID("0192f0a1-77aa-7c1e-9b1e-1234567890ab")
VECTORS = Path(__file__).parent / "vectors" / "cadence.json"


def rule(tier: str, days: int, *, region: uuid.UUID | None = None, stage: str | None = None,
         n: int = 0, lead: int = 1) -> Rule:
    return Rule(id=uuid.UUID(int=n + 1), tier=tier, interval_days=days, reminder_lead_days=lead,
                region_id=region, stage=stage)


def customer(tier: str = "A", stage: str = "active", region: uuid.UUID | None = NORTH,
             archived: bool = False) -> CustomerFacts:
    return CustomerFacts(id=CUSTOMER, tier=tier, stage=stage, region_id=region, owner_id=ROB,
                         created_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC), archived=archived,
                         time_zone="Asia/Shanghai")


def visit(day: int, hour: int = 3, n: int = 1) -> VisitFact:
    # 03:00 UTC is 11:00 in Shanghai, same local day
    return VisitFact(id=uuid.UUID(int=1000 + n), started_at=datetime(2026, 3, day, hour, tzinfo=UTC))


RULES = [
    rule("A", 14, n=1),
    rule("A", 10, region=NORTH, n=2),
    rule("A", 7, stage="at_risk", n=3),
    rule("A", 5, region=NORTH, stage="at_risk", n=4),
    rule("B", 30, n=5),
]


class TestPrecedence:
    def test_most_specific_rule_wins(self) -> None:
        assert match_rule(RULES, "A", NORTH, "at_risk").interval_days == 5  # region + stage
        assert match_rule(RULES, "A", SOUTH, "at_risk").interval_days == 7  # stage
        assert match_rule(RULES, "A", NORTH, "active").interval_days == 10  # region
        assert match_rule(RULES, "A", SOUTH, "active").interval_days == 14  # tier only
        assert match_rule(RULES, "C", NORTH, "active") is None

    def test_stage_beats_region(self) -> None:
        rules = [rule("A", 10, region=NORTH, n=1), rule("A", 20, stage="key", n=2)]
        assert match_rule(rules, "A", NORTH, "key").interval_days == 20

    def test_same_scope_ties_go_to_the_shorter_interval_then_the_id(self) -> None:
        rules = [rule("B", 30, n=7), rule("B", 21, n=9), rule("B", 21, n=8)]
        chosen = match_rule(rules, "B", NORTH, "active")
        assert (chosen.interval_days, chosen.id) == (21, uuid.UUID(int=9))
        assert match_rule(list(reversed(rules)), "B", NORTH, "active") == chosen

    def test_lost_customers_only_follow_a_rule_that_names_lost(self) -> None:
        assert match_rule(RULES, "A", NORTH, "lost") is None
        assert match_rule([*RULES, rule("A", 90, stage="lost", n=9)], "A", NORTH, "lost").interval_days == 90

    def test_deleted_rules_do_not_match(self) -> None:
        dead = Rule(id=uuid.UUID(int=50), tier="C", interval_days=3, deleted=True)
        assert match_rule([dead], "C", None, "active") is None


class TestRecompute:
    def test_first_plan_of_a_never_visited_customer_is_due_on_its_creation_day(self) -> None:
        [change] = plan_changes(customer(), RULES, [], [])
        assert isinstance(change, CreatePlan)
        assert change.id == plan_id(CUSTOMER, "initial")
        assert change.due_date == date(2026, 1, 5)
        assert (change.rep_id, change.source, change.status) == (ROB, "cadence", "planned")

    def test_a_visit_completes_the_open_plan_and_plans_the_next(self) -> None:
        old = PlanFact(id=plan_id(CUSTOMER, "initial"), due_date=date(2026, 3, 1))
        v = visit(3)
        changes = plan_changes(customer(), RULES, [v], [old], completed_by=v.id)
        assert changes == [
            UpdatePlan(old.id, {"status": "done"}),
            CreatePlan(id=plan_id(CUSTOMER, f"after:{v.id}"), customer_id=CUSTOMER, rep_id=ROB,
                       due_date=date(2026, 3, 13)),  # North, tier A: 10 days
        ]

    def test_visit_date_is_the_local_day_in_the_region(self) -> None:
        late = VisitFact(id=uuid.uuid4(), started_at=datetime(2026, 3, 3, 17, tzinfo=UTC))  # 01:00 on 4 Mar local
        [change] = plan_changes(customer(), RULES, [late], [], completed_by=late.id)
        assert isinstance(change, CreatePlan) and change.due_date == date(2026, 3, 14)

    def test_a_visit_synced_late_that_is_not_the_latest_changes_nothing(self) -> None:
        newer, older = visit(5, n=2), visit(2, n=1)
        current = PlanFact(id=plan_id(CUSTOMER, f"after:{newer.id}"), due_date=date(2026, 3, 15))
        assert plan_changes(customer(), RULES, [newer, older], [current], completed_by=older.id) == []

    def test_tier_change_moves_the_open_cadence_plan(self) -> None:
        v = visit(3)
        current = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 3, 13))
        changes = plan_changes(customer(tier="B"), RULES, [v], [current])
        assert changes == [UpdatePlan(current.id, {"due_date": date(2026, 4, 2)})]

    def test_stage_change_to_at_risk_brings_the_plan_forward(self) -> None:
        v = visit(3)
        current = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 3, 13))
        changes = plan_changes(customer(stage="at_risk"), RULES, [v], [current])
        assert changes == [UpdatePlan(current.id, {"due_date": date(2026, 3, 8)})]

    def test_rule_change_moves_the_plan_and_recompute_is_idempotent(self) -> None:
        v = visit(3)
        current = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 3, 13))
        north_6 = [rule("A", 6, region=NORTH, n=2) if r.id == uuid.UUID(int=3) else r for r in RULES]
        changes = plan_changes(customer(), north_6, [v], [current])
        assert changes == [UpdatePlan(current.id, {"due_date": date(2026, 3, 9)})]
        moved = PlanFact(id=current.id, due_date=date(2026, 3, 9))
        assert plan_changes(customer(), north_6, [v], [moved]) == []

    def test_deleting_the_only_rule_cancels_the_open_cadence_plan(self) -> None:
        v = visit(3)
        current = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 3, 13))
        assert plan_changes(customer(tier="C"), RULES, [v], [current]) == [
            UpdatePlan(current.id, {"status": "cancelled"})
        ]

    def test_archiving_cancels_every_open_plan(self) -> None:
        plans = [PlanFact(id=uuid.uuid4(), due_date=date(2026, 3, 9), source="manual")]
        assert plan_changes(customer(archived=True), RULES, [], plans) == [
            UpdatePlan(plans[0].id, {"status": "cancelled"})
        ]


class TestManualOverride:
    def test_a_moved_plan_keeps_its_date_through_rule_and_tier_changes(self) -> None:
        v = visit(3)
        moved = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 4, 20), source="manual")
        assert plan_changes(customer(tier="B"), RULES, [v], [moved]) == []
        assert plan_changes(customer(stage="at_risk"), RULES[:1], [v], [moved]) == []

    def test_a_separate_manual_plan_suppresses_the_cadence_plan(self) -> None:
        v = visit(3)
        manual = PlanFact(id=uuid.uuid4(), due_date=date(2026, 4, 1), source="manual")
        cadence_plan = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 3, 13))
        assert plan_changes(customer(), RULES, [v], [manual]) == []
        assert plan_changes(customer(), RULES, [v], [manual, cadence_plan]) == [
            UpdatePlan(cadence_plan.id, {"status": "cancelled"})
        ]

    def test_the_manual_date_wins_until_that_visit_is_done(self) -> None:
        first = visit(3, n=1)
        manual = PlanFact(id=plan_id(CUSTOMER, f"after:{first.id}"), due_date=date(2026, 4, 20), source="manual")
        second = visit(25, n=2)
        changes = plan_changes(customer(), RULES, [first, second], [manual], completed_by=second.id)
        assert changes == [
            UpdatePlan(manual.id, {"status": "done"}),
            CreatePlan(id=plan_id(CUSTOMER, f"after:{second.id}"), customer_id=CUSTOMER, rep_id=ROB,
                       due_date=date(2026, 4, 4)),
        ]


class TestDeviceAndServerAgree:
    def test_both_sides_name_the_same_plan(self) -> None:
        v = visit(3)
        device = plan_changes(customer(), RULES, [v], [], completed_by=v.id)
        server = plan_changes(customer(), RULES, [v], [], completed_by=v.id)
        assert device == server
        assert device[0].id == plan_id(CUSTOMER, f"after:{v.id}")

    def test_a_device_plan_with_a_chosen_date_is_kept_when_the_server_sees_the_visit(self) -> None:
        """The device writes the next plan (same id, its own date) before the visit."""
        old = PlanFact(id=plan_id(CUSTOMER, "initial"), due_date=date(2026, 3, 1))
        v = visit(3)
        from_device = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 3, 20), source="manual")
        assert plan_changes(customer(), RULES, [v], [old, from_device], completed_by=v.id) == [
            UpdatePlan(old.id, {"status": "done"})
        ]

    def test_a_server_plan_already_there_is_not_created_twice(self) -> None:
        v = visit(3)
        existing = PlanFact(id=plan_id(CUSTOMER, f"after:{v.id}"), due_date=date(2026, 3, 13))
        assert plan_changes(customer(), RULES, [v], [existing], completed_by=v.id) == []


def test_forgotten_means_no_open_plan() -> None:
    assert is_forgotten([])
    assert is_forgotten([PlanFact(id=uuid.uuid4(), due_date=date(2026, 3, 1), status="done")])
    assert not is_forgotten([PlanFact(id=uuid.uuid4(), due_date=date(2026, 3, 1))])


def test_plan_ids_match_the_shared_vectors() -> None:
    cases = json.loads(VECTORS.read_text())["plan_ids"]
    assert cases
    for case in cases:
        assert str(plan_id(uuid.UUID(case["customer_id"]), case["basis"])) == case["id"]


@pytest.mark.parametrize("case", json.loads(VECTORS.read_text())["precedence"])
def test_precedence_vectors(case: dict) -> None:  # type: ignore[type-arg]
    rules = [
        Rule(id=uuid.UUID(r["id"]), tier=r["tier"], interval_days=r["interval_days"],
             reminder_lead_days=r["reminder_lead_days"],
             region_id=uuid.UUID(r["region_id"]) if r["region_id"] else None, stage=r["stage"])
        for r in case["rules"]
    ]
    c = case["customer"]
    chosen = match_rule(rules, c["tier"], uuid.UUID(c["region_id"]) if c["region_id"] else None, c["stage"])
    assert (str(chosen.id) if chosen else None) == case["expect"]

"""The cadence engine: which plan a customer should have, as pure functions of facts and ``now``.

Nothing here touches the database, the clock or the network, so the same rules can be
mirrored on a device (the PWA) and checked by tests in microseconds. ``recompute.py`` loads
the facts and writes the returned changes through the sync write path.

Precedence and plan identity are documented in docs/scheduling.md.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# uuid5(NAMESPACE_URL, "https://revisit.example/ns/planned-revisit"): fixed forever, because
# devices compute the same ids offline.
PLAN_NAMESPACE = uuid.UUID("297a22a7-ad93-5f12-b36d-5bb8be9e0613")
DEFAULT_TIME_ZONE = "Asia/Shanghai"
DEFAULT_LEAD_DAYS = 1  # reminder lead of a plan whose customer matches no rule (manual plans)

PlanStatus = Literal["planned", "done", "skipped", "cancelled"]
PlanSource = Literal["cadence", "manual"]


@dataclass(frozen=True)
class Rule:
    """A cadence rule: for a tier (optionally narrowed by region and stage) an interval."""

    id: uuid.UUID
    tier: str
    interval_days: int
    reminder_lead_days: int = DEFAULT_LEAD_DAYS
    region_id: uuid.UUID | None = None
    stage: str | None = None
    deleted: bool = False

    @property
    def specificity(self) -> int:
        """Stage narrows more than region: 3 = region+stage, 2 = stage, 1 = region, 0 = tier."""
        return (2 if self.stage is not None else 0) + (1 if self.region_id is not None else 0)


@dataclass(frozen=True)
class CustomerFacts:
    id: uuid.UUID
    tier: str
    stage: str
    region_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    created_at: datetime
    archived: bool = False
    time_zone: str = DEFAULT_TIME_ZONE  # the region's time zone: visits become local dates in it


@dataclass(frozen=True)
class VisitFact:
    id: uuid.UUID
    started_at: datetime
    deleted: bool = False


@dataclass(frozen=True)
class PlanFact:
    id: uuid.UUID
    due_date: date
    source: str = "cadence"
    status: str = "planned"
    deleted: bool = False

    @property
    def is_open(self) -> bool:
        return self.status == "planned" and not self.deleted


@dataclass(frozen=True)
class DesiredPlan:
    """The cadence plan a customer should have now: its deterministic id and due date."""

    id: uuid.UUID
    due_date: date
    basis: str
    rule_id: uuid.UUID


@dataclass(frozen=True)
class CreatePlan:
    id: uuid.UUID
    customer_id: uuid.UUID
    rep_id: uuid.UUID | None
    due_date: date
    source: PlanSource = "cadence"
    status: PlanStatus = "planned"


@dataclass(frozen=True)
class UpdatePlan:
    id: uuid.UUID
    fields: dict[str, object] = field(default_factory=dict)


PlanChange = CreatePlan | UpdatePlan


# --- rule matching -------------------------------------------------------------------------


def rule_applies(rule: Rule, tier: str, region_id: uuid.UUID | None, stage: str) -> bool:
    if rule.deleted or rule.tier != tier:
        return False
    if rule.region_id is not None and rule.region_id != region_id:
        return False
    if rule.stage is not None and rule.stage != stage:
        return False
    # Lost customers are not planned by a general rule, only by one that names stage "lost".
    return not (stage == "lost" and rule.stage != "lost")


def match_rule(
    rules: Iterable[Rule], tier: str, region_id: uuid.UUID | None, stage: str
) -> Rule | None:
    """The rule for a customer: most specific first, then the shortest interval, then the id.

    The last two tie-breakers only matter when an admin saved two rules for the same scope;
    they make the choice deterministic on every replica (more care wins).
    """
    best: Rule | None = None
    for rule in rules:
        if not rule_applies(rule, tier, region_id, stage):
            continue
        if best is None or _rank(rule) < _rank(best):
            best = rule
    return best


def _rank(rule: Rule) -> tuple[int, int, str]:
    return (-rule.specificity, rule.interval_days, str(rule.id))


def rule_for(rules: Iterable[Rule], customer: CustomerFacts) -> Rule | None:
    if customer.archived:
        return None
    return match_rule(rules, customer.tier, customer.region_id, customer.stage)


# --- plan identity and due dates ------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def plan_id(customer_id: uuid.UUID, basis: str) -> uuid.UUID:
    """uuid5 over ``"<customer id>:<basis>"``: a device and the server reacting to the same
    visit name the same plan, so a second create of it is a harmless ``duplicate``."""
    return uuid.uuid5(PLAN_NAMESPACE, f"{str(customer_id).lower()}:{basis}")


def basis_for(last_visit: VisitFact | None) -> str:
    return basis_of(last_visit.id if last_visit is not None else None)


def basis_of(last_visit_id: uuid.UUID | None) -> str:
    return f"after:{str(last_visit_id).lower()}" if last_visit_id is not None else "initial"


@functools.lru_cache(maxsize=4096)  # a push asks for each visit's plan id six times
def plan_after(customer_id: uuid.UUID, last_visit_id: uuid.UUID | None) -> uuid.UUID:
    """The id of the cadence plan a customer's latest visit calls for (no visit: the initial plan)."""
    return plan_id(customer_id, basis_of(last_visit_id))


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def local_date(instant: datetime, time_zone: str) -> date:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: instants must be timezone-aware")
    return instant.astimezone(zone(time_zone)).date()


def latest_visit(visits: Iterable[VisitFact]) -> VisitFact | None:
    """The visit the cadence counts from: the latest live one (ties broken by id)."""
    live = [v for v in visits if not v.deleted]
    if not live:
        return None
    return max(live, key=lambda v: (v.started_at, str(v.id)))


def desired_plan(
    customer: CustomerFacts, rules: Iterable[Rule], last_visit: VisitFact | None
) -> DesiredPlan | None:
    """The next cadence plan: last visit's local date + interval; a never-visited customer is
    due on the local day it was created (a new customer needs a first visit)."""
    rule = rule_for(rules, customer)
    if rule is None:
        return None
    basis = basis_for(last_visit)
    if last_visit is not None:
        due = local_date(last_visit.started_at, customer.time_zone) + timedelta(
            days=rule.interval_days
        )
    else:
        due = local_date(customer.created_at, customer.time_zone)
    return DesiredPlan(id=plan_id(customer.id, basis), due_date=due, basis=basis, rule_id=rule.id)


# --- reconciling the desired plan with the plans that exist --------------------------------


def reconcile(
    customer: CustomerFacts,
    desired: DesiredPlan | None,
    plans: Sequence[PlanFact],
    *,
    visit_completes: bool,
) -> list[PlanChange]:
    """The changes that turn ``plans`` into the customer's correct plan set.

    - ``visit_completes``: a visit just became the customer's latest; every other open plan
      (cadence or manual) is done, because that visit is what they planned.
    - An open manual plan wins over the cadence until a visit completes it: the cadence does
      not add a parallel plan and stale open cadence plans are cancelled.
    - The open cadence plan of the current basis follows the rule (its due date is updated
      when a rule, tier or stage changed); open plans of an older basis are cancelled.
    - A plan of the current basis that was closed (done, skipped, cancelled, deleted) is left
      closed: the customer then shows up as "forgotten" rather than being silently re-planned.
    - Archived customers and customers without a rule get no new cadence plan.
    """
    changes: list[PlanChange] = []
    desired_id = desired.id if desired is not None else None
    open_plans = [p for p in plans if p.is_open]

    if customer.archived:
        return [UpdatePlan(p.id, {"status": "cancelled"}) for p in open_plans]

    if visit_completes:
        for p in open_plans:
            if p.id != desired_id:
                changes.append(UpdatePlan(p.id, {"status": "done"}))
        open_plans = [p for p in open_plans if p.id == desired_id]

    manual_elsewhere = [p for p in open_plans if p.source == "manual" and p.id != desired_id]
    stale_cadence = [p for p in open_plans if p.source == "cadence" and p.id != desired_id]
    changes.extend(UpdatePlan(p.id, {"status": "cancelled"}) for p in stale_cadence)

    if desired is None:
        return changes

    existing = next((p for p in plans if p.id == desired.id), None)
    if manual_elsewhere:
        if existing is not None and existing.is_open and existing.source == "cadence":
            changes.append(UpdatePlan(existing.id, {"status": "cancelled"}))
        return changes
    if existing is None:
        changes.append(
            CreatePlan(
                id=desired.id,
                customer_id=customer.id,
                rep_id=customer.owner_id,
                due_date=desired.due_date,
            )
        )
    elif existing.is_open and existing.source == "cadence" and existing.due_date != desired.due_date:
        changes.append(UpdatePlan(existing.id, {"due_date": desired.due_date}))
    return changes


def plan_changes(
    customer: CustomerFacts,
    rules: Iterable[Rule],
    visits: Iterable[VisitFact],
    plans: Sequence[PlanFact],
    *,
    completed_by: uuid.UUID | None = None,
) -> list[PlanChange]:
    """One call for every trigger. ``completed_by`` is the id of a visit just recorded; it
    completes the open plans only if it is (now) the customer's latest visit."""
    last = latest_visit(visits)
    desired = desired_plan(customer, rules, last)
    completes = completed_by is not None and last is not None and last.id == completed_by
    return reconcile(customer, desired, plans, visit_completes=completes)


def is_forgotten(plans: Iterable[PlanFact]) -> bool:
    """A customer with no open plan at all feels forgotten (DESIGN "regular, planned contact")."""
    return not any(p.is_open for p in plans)


def reminder_lead(rules: Iterable[Rule], customer: CustomerFacts) -> int:
    rule = rule_for(rules, customer)
    return rule.reminder_lead_days if rule is not None else DEFAULT_LEAD_DAYS


def reminder_day(due: date, lead_days: int) -> date:
    return due - timedelta(days=max(0, lead_days))

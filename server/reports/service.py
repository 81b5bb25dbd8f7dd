"""Queries behind the coverage dashboard; the arithmetic is in ``coverage.py``."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from server.errors import not_found
from server.planning import forgotten
from server.planning.cadence import DEFAULT_TIME_ZONE, CustomerFacts
from server.planning.facts import load_rules
from server.reports import coverage
from server.reports.schemas import CoverageReport, RepCoverage
from server.rest.clock import local_today
from server.rest.scope import live, scope_where
from server.tables import Customer, Gift, Note, PlannedRevisit, Region, User, Visit
from sync.actor import Actor


def _uuid(value: Any) -> UUID | None:
    """Raw queries on SQLite hand UUIDs back as text."""
    if value is None or isinstance(value, UUID):
        return value
    return UUID(str(value))


async def viewing_actor(actor: Actor, region_id: UUID | None) -> Actor:
    """The scope the report covers: a manager's own region, or the region an admin picked
    (all regions when none). Another region answers 404 like any out-of-scope object."""
    if actor.role == "manager":
        if region_id is not None and region_id != actor.region_id:
            raise not_found("region")
        return actor
    if region_id is None:
        return actor
    exists = await Region.exists().where(Region.id == region_id, Region.deleted == False)  # noqa: E712
    if not exists:
        raise not_found("region")
    return Actor(user_id=actor.user_id, role="manager", region_id=region_id)


async def _forgotten_by_owner(view: Actor) -> Counter[UUID | None]:
    """Per owner, the customers ``server.planning.forgotten`` lists (no open plan)."""
    base, params = forgotten.forgotten_sql(view)
    rows = await Customer.raw(
        "SELECT c.owner_id AS owner_id, COUNT(*) AS n " + base + " GROUP BY c.owner_id", *params
    )
    return Counter({_uuid(r["owner_id"]): int(r["n"]) for r in rows})


async def coverage_report(
    actor: Actor, region_id: UUID | None, now: datetime, time_zone: str
) -> CoverageReport:
    view = await viewing_actor(actor, region_id)
    today = local_today(now, time_zone)
    period = coverage.periods(now, time_zone)
    rules = await load_rules()
    zones = {r["id"]: r["time_zone"] for r in await Region.select(Region.id, Region.time_zone)}

    reps_query = User.select(
        User.id, User.username, User.display_name, User.region_id, User.active
    ).where(User.role == "rep", User.deleted == False)  # noqa: E712
    if view.role == "manager":
        reps_query = reps_query.where(User.region_id == view.region_id)
    reps = await reps_query.order_by(User.display_name).order_by(User.id)

    customers_by_owner: dict[UUID, list[CustomerFacts]] = defaultdict(list)
    for c in await Customer.select(
        Customer.id,
        Customer.tier,
        Customer.stage,
        Customer.region_id,
        Customer.owner_id,
        Customer.created_at,
        Customer.archived,
    ).where(scope_where(Customer, view), live(Customer)):
        if c["owner_id"] is None:
            continue
        customers_by_owner[c["owner_id"]].append(
            CustomerFacts(
                id=c["id"],
                tier=c["tier"],
                stage=c["stage"],
                region_id=c["region_id"],
                owner_id=c["owner_id"],
                created_at=c["created_at"],
                archived=c["archived"],
                time_zone=zones.get(c["region_id"]) or DEFAULT_TIME_ZONE,
            )
        )

    longest = max((r.interval_days for r in rules), default=0)
    since = min(period.month, period.satisfaction, now - timedelta(days=longest + 2))
    last_visit: dict[UUID, datetime] = {}
    week: Counter[UUID] = Counter()
    month: Counter[UUID] = Counter()
    scores: dict[UUID, list[int]] = defaultdict(list)
    for v in await Visit.select(
        Visit.customer_id, Visit.rep_id, Visit.started_at, Visit.satisfaction
    ).where(scope_where(Visit, view), live(Visit), Visit.started_at >= since):
        at: datetime = v["started_at"]
        if at > now:
            continue
        if v["customer_id"] not in last_visit or at > last_visit[v["customer_id"]]:
            last_visit[v["customer_id"]] = at
        if at >= period.week:
            week[v["rep_id"]] += 1
        if at >= period.month:
            month[v["rep_id"]] += 1
        if at >= period.satisfaction and v["satisfaction"] is not None:
            scores[v["rep_id"]].append(v["satisfaction"])

    overdue: Counter[UUID] = Counter(
        p["owner_id"]
        for p in await PlannedRevisit.select(PlannedRevisit.owner_id).where(
            scope_where(PlannedRevisit, view),
            live(PlannedRevisit),
            PlannedRevisit.status == "planned",
            PlannedRevisit.due_date < today,
        )
    )
    forgotten_counts = await _forgotten_by_owner(view)

    gifts_this_year: dict[UUID, list[tuple[int, Decimal]]] = defaultdict(list)
    over_cap: Counter[UUID] = Counter()
    for g in await Gift.select(Gift.rep_id, Gift.quantity, Gift.unit_value, Gift.over_cap).where(
        scope_where(Gift, view), live(Gift), Gift.given_at >= period.year
    ):
        gifts_this_year[g["rep_id"]].append((g["quantity"], g["unit_value"]))
        if g["over_cap"]:
            over_cap[g["rep_id"]] += 1
    pending: Counter[UUID] = Counter(
        g["rep_id"]
        for g in await Gift.select(Gift.rep_id).where(
            scope_where(Gift, view),
            live(Gift),
            Gift.over_cap == True,  # noqa: E712
            Gift.review_status == "pending",
        )
    )

    complaints: dict[UUID, list[datetime]] = defaultdict(list)
    for n in await Note.select(Note.owner_id, Note.created_at).where(
        scope_where(Note, view), live(Note), Note.kind == "complaint", Note.status == "open"
    ):
        complaints[n["owner_id"]].append(n["created_at"])

    out = []
    for rep in reps:
        rid = rep["id"]
        own = customers_by_owner.get(rid, [])
        opened = complaints.get(rid, [])
        out.append(
            RepCoverage(
                rep_id=rid,
                username=rep["username"],
                display_name=rep["display_name"],
                region_id=rep["region_id"],
                active=rep["active"],
                customers=sum(1 for c in own if not c.archived),
                coverage=coverage.tier_coverage(own, rules, last_visit, today),
                overdue=overdue.get(rid, 0),
                forgotten=forgotten_counts.get(rid, 0),
                visits_this_week=week.get(rid, 0),
                visits_this_month=month.get(rid, 0),
                gift_spend_this_year=coverage.spend(gifts_this_year.get(rid, [])),
                gifts_over_cap=over_cap.get(rid, 0),
                gifts_over_cap_pending=pending.get(rid, 0),
                avg_satisfaction_90d=coverage.average(scores.get(rid, [])),
                open_complaints=len(opened),
                oldest_open_complaint_days=coverage.age_days(min(opened, default=None), now),
            )
        )
    region = view.region_id if view.role == "manager" else None
    return CoverageReport(region_id=region, today=today, generated_at=now, reps=out)

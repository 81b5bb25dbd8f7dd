"""Cadence recompute as sync-engine hooks: plans change in the same transaction as their cause.

The sync engine (``sync.engine.SyncEngine(hooks=...)``) calls a table's hooks after every
row it writes, with the write context. These hooks read the customer's rows through that
context, ask the pure engine (``cadence.py``) what should change, and write the plans with
``create_as_server`` / ``update_as_server``, so seq, clocks and bucket checksums stay right
and devices receive the plans on their next pull.

- ``visits``: a new visit completes the open plans and creates the next one.
- ``customers``: a new customer gets its first plan; a change of tier, stage, region or
  archived moves (or cancels) the open cadence plan.
- ``cadence_rules``: a created, edited or deleted rule recomputes the customers of the
  tiers it touches (old and new tier).
- ``planned_revisits``: a new open manual plan (a date set through REST, or by a client that
  wrote it after the visit) cancels the open cadence plan beside it.

Rows arrive in wire form (R-SCHEMA-1: ids and dates as strings).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from server.planning import cadence
from server.planning.cadence import CreatePlan, CustomerFacts, PlanFact, Rule, VisitFact
from sync.ids import canonical, uuid_of
from sync.messages import Create

log = logging.getLogger("revisit.planning")

Row = dict[str, Any]
RulesLoader = Callable[[Any], Awaitable[list[Rule]]]  # (write context) -> live rules
TierCustomers = Callable[[Any, set[str]], Awaitable[list[str]]]  # (ctx, tiers) -> customer ids
PlanIdFor = Callable[[uuid.UUID | None], uuid.UUID]  # latest visit's id (None: none) -> its cadence plan's id
HistoryLoader = Callable[[Any, str, PlanIdFor, uuid.UUID | None], Awaitable[tuple[list[VisitFact], list[PlanFact]]]]
"""(ctx, customer id, plan id for a latest visit, the visit just recorded if any) -> the
visits and plans the cadence needs.

Enough is the latest live visit, every open plan and the plan whose id ``PlanIdFor`` gives
for that visit (it may be closed): ``cadence.plan_changes`` decides the same from those as
from every row (``all_history``). The visit just recorded is usually the latest, so a
loader may look for its plan before it knows."""

HistoryPreloader = Callable[[Any, dict[str, list[uuid.UUID]]], Awaitable[None]]
"""(ctx, customer id -> the new visits of a transaction that name it): read ahead, in one
go, what ``HistoryLoader`` will read for each of those visits."""

CUSTOMER_FIELDS = ("tier", "stage", "region_id", "archived")


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value in (None, "") else uuid_of(value)


def _instant(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def visit_fact(row: Row) -> VisitFact:
    return VisitFact(uuid_of(row["id"]), _instant(row["started_at"]), bool(row.get("deleted")))


def plan_fact(row: Row) -> PlanFact:
    return PlanFact(uuid_of(row["id"]), _day(row["due_date"]), str(row.get("source") or "cadence"),
                    str(row.get("status") or "planned"), bool(row.get("deleted")))


async def all_history(
    ctx: Any, customer_id: str, plan_id_for: PlanIdFor, recorded: uuid.UUID | None = None
) -> tuple[list[VisitFact], list[PlanFact]]:
    """Every visit and plan of the customer (``WriteTx.customer_rows``): right for any store."""
    visits: list[VisitFact] = []
    plans: list[PlanFact] = []
    for table, row in await ctx.tx.customer_rows(customer_id):
        if table == "visits":
            visits.append(visit_fact(row))
        elif table == "planned_revisits":
            plans.append(plan_fact(row))
    return visits, plans


def _open_manual(row: Row) -> bool:
    plan = plan_fact(row)
    return plan.source == "manual" and plan.is_open


def rule_from_row(row: Row) -> Rule:
    return Rule(
        id=uuid_of(row["id"]),
        tier=str(row["tier"]),
        interval_days=int(row["interval_days"]),
        reminder_lead_days=int(row.get("reminder_lead_days") or 0),
        region_id=_uuid(row.get("region_id")),
        stage=row.get("stage") or None,
        deleted=bool(row.get("deleted")),
    )


class PlanningHooks:
    """The hooks, given how to list rules and customers of a tier in the current store."""

    RULES = "planning.rules"  # the write context's memo: the live rules, read once per transaction

    def __init__(
        self,
        load_rules: RulesLoader,
        tier_customers: TierCustomers,
        load_history: HistoryLoader = all_history,
        preload_history: HistoryPreloader | None = None,
    ) -> None:
        self.load_rules = load_rules
        self.tier_customers = tier_customers
        self.load_history = load_history
        self.preload_history = preload_history

    def as_mapping(self) -> dict[str, list[Callable[..., Awaitable[None]]]]:
        return {
            "visits": [self.on_visit],
            "customers": [self.on_customer],
            "cadence_rules": [self.on_rule],
            "planned_revisits": [self.on_plan],
        }

    async def prepare(self, ctx: Any, mutations: Sequence[Any]) -> None:
        """Before a transaction's mutations (``SyncEngine(prepare=...)``): the history of every
        customer its new live visits name, read at once instead of once per visit."""
        if self.preload_history is None:
            return
        recorded: dict[str, list[uuid.UUID]] = {}
        for m in mutations:
            if isinstance(m, Create) and m.table == "visits" and not m.row.get("deleted"):
                try:
                    customer, visit = canonical(m.row.get("customer_id")), uuid_of(m.id)
                except ValueError:
                    continue  # the create is rejected; nothing to read for it
                recorded.setdefault(customer, []).append(visit)
        if recorded:
            await self.preload_history(ctx, recorded)

    # --- the hooks ------------------------------------------------------------------------

    async def on_visit(self, ctx: Any, table: str, old: Row | None, new: Row) -> None:
        # Only a new live visit is a trigger. Deleting a visit keeps the plan it produced
        # (a person can still move or cancel that plan); see docs/scheduling.md.
        if old is None and not new.get("deleted"):
            await self.recompute(ctx, str(new["customer_id"]), completed_by=str(new["id"]))

    async def on_customer(self, ctx: Any, table: str, old: Row | None, new: Row) -> None:
        if old is None or any(old.get(f) != new.get(f) for f in CUSTOMER_FIELDS):
            await self.recompute(ctx, str(new["id"]))

    async def on_plan(self, ctx: Any, table: str, old: Row | None, new: Row) -> None:
        # A manual date wins over the cadence (cadence.reconcile). A plan named after a visit
        # (its uuid5 id, docs/scheduling.md) is written before that visit, which completes
        # the other plans itself. The recompute writes cadence or closed plans only, so this
        # never triggers itself.
        named_after_visit = uuid_of(new["id"]).version == 5
        if not named_after_visit and _open_manual(new) and (old is None or not _open_manual(old)):
            await self.recompute(ctx, str(new["customer_id"]))

    async def on_rule(self, ctx: Any, table: str, old: Row | None, new: Row) -> None:
        ctx.memo.pop(self.RULES, None)  # the rules changed: the next recompute reads them again
        watched = ("tier", "region_id", "stage", "interval_days", "reminder_lead_days", "deleted")
        if old is not None and all(old.get(f) == new.get(f) for f in watched):
            return
        tiers = {str(new["tier"])} | ({str(old["tier"])} if old else set())
        rules = self._with(await self.load_rules(ctx), rule_from_row(new))
        customers = await self.tier_customers(ctx, tiers)
        for customer_id in customers:
            await self.recompute(ctx, customer_id, rules=rules)
        log.info("cadence rule %s changed: recomputed %d customers of tier %s",
                 new["id"], len(customers), "/".join(sorted(tiers)))

    # --- recompute ------------------------------------------------------------------------

    async def recompute(
        self,
        ctx: Any,
        customer_id: str,
        *,
        completed_by: str | None = None,
        rules: list[Rule] | None = None,
    ) -> list[cadence.PlanChange]:
        customer_row = await ctx.tx.get("customers", customer_id)
        if customer_row is None or customer_row.get("deleted"):
            return []
        customer = await self._customer(ctx, customer_row)
        visits, plans = await self.load_history(
            ctx, customer_id, functools.partial(cadence.plan_after, customer.id), _uuid(completed_by)
        )
        if rules is None:
            rules = await self._rules(ctx)
        changes = cadence.plan_changes(
            customer, rules, visits, plans, completed_by=_uuid(completed_by)
        )
        for change in changes:
            if isinstance(change, CreatePlan):
                await ctx.create_as_server("planned_revisits", {
                    "id": str(change.id),
                    "customer_id": str(change.customer_id),
                    "rep_id": str(change.rep_id) if change.rep_id else None,
                    "owner_id": customer_row.get("owner_id"),
                    "region_id": customer_row.get("region_id"),
                    "due_date": change.due_date.isoformat(),
                    "source": change.source,
                    "status": change.status,
                })
            else:
                fields = {k: (v.isoformat() if isinstance(v, dt.date) else v)
                          for k, v in change.fields.items()}
                await ctx.update_as_server("planned_revisits", str(change.id), fields)
        return changes

    async def _rules(self, ctx: Any) -> list[Rule]:
        if self.RULES not in ctx.memo:
            ctx.memo[self.RULES] = await self.load_rules(ctx)
        return list(ctx.memo[self.RULES])

    async def _customer(self, ctx: Any, row: Row) -> CustomerFacts:
        time_zone = cadence.DEFAULT_TIME_ZONE
        if row.get("region_id"):
            region = await ctx.tx.get("regions", str(row["region_id"]))
            if region and region.get("time_zone"):
                time_zone = str(region["time_zone"])
        return CustomerFacts(
            id=uuid_of(row["id"]),
            tier=str(row.get("tier") or "C"),
            stage=str(row.get("stage") or "prospect"),
            region_id=_uuid(row.get("region_id")),
            owner_id=_uuid(row.get("owner_id")),
            created_at=_instant(row.get("created_at") or "1970-01-01T00:00:00+00:00"),
            archived=bool(row.get("archived")),
            time_zone=time_zone,
        )

    @staticmethod
    def _with(rules: list[Rule], changed: Rule) -> list[Rule]:
        """The rule list as of this transaction, whether or not the loader sees the change."""
        return [r for r in rules if r.id != changed.id] + ([] if changed.deleted else [changed])

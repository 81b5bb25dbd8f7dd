"""What the cadence reads from the server's database: the live rules, and a customer's
latest visit and plans (the cadence hooks' ``HistoryLoader``)."""

from __future__ import annotations

import uuid
from typing import Any

from server import db
from server.planning import cadence
from server.planning.cadence import PlanFact, Rule, VisitFact
from server.planning.hooks import PlanIdFor, all_history, plan_fact, visit_fact
from sync.ids import canonical, uuid_of

_RULES = (
    "SELECT id, tier, region_id, stage, interval_days, reminder_lead_days "
    "FROM cadence_rules WHERE deleted = {}"
)


async def load_rules() -> list[Rule]:
    """The live cadence rules; read once per push (one prepared statement: building it with
    Piccolo's query builder was a tenth of a one-visit push's server time)."""
    return [Rule(**r) for r in await db.run_sql(_RULES, (False,))]


async def latest_history(
    ctx: Any, customer_id: str, plan_id_for: PlanIdFor, recorded: uuid.UUID | None = None
) -> tuple[list[VisitFact], list[PlanFact]]:
    """The latest live visit, the open plans and the plan of that visit's basis, in one
    indexed statement (``customer_id``) however long the customer's history; a second
    only when the latest visit is neither ``recorded`` nor none and its plan is not open.

    The latest visit is ``cadence.latest_visit``'s choice: the latest ``started_at``, ties
    broken by the larger id (both databases order UUIDs as their lowercase text). The store
    remembers the plans, so a plan the cadence then updates is not read again.
    """
    history = getattr(ctx.tx, "latest_visit_and_plans", None)
    if history is None:  # not the Piccolo store
        return await all_history(ctx, customer_id, plan_id_for, recorded)
    guesses = {plan_id_for(None)} | ({plan_id_for(recorded)} if recorded is not None else set())
    latest, rows = await history(customer_id, sorted(canonical(g) for g in guesses))
    visits = [visit_fact(latest)] if latest is not None else []
    plans = [plan_fact(row) for row in rows]
    wanted = plan_id_for(visits[0].id if visits else None)
    if wanted not in guesses and all(p.id != wanted for p in plans):
        row = await ctx.tx.get("planned_revisits", canonical(wanted))
        if row is not None:
            plans.append(plan_fact(row))
    return visits, plans


def _plan_of(customer_id: str, visit_id: uuid.UUID | None) -> str:
    return canonical(cadence.plan_after(uuid_of(customer_id), visit_id))  # ``recompute``'s ``PlanIdFor``


async def preload_histories(ctx: Any, recorded: dict[str, list[uuid.UUID]]) -> None:
    """Before a push's new visits: what ``latest_history`` will read for each of them, for
    all their customers in one statement, then the plans of latest visits it will look
    up, with the customers' regions (their time zones), in one more (``HistoryPreloader``)."""
    load = getattr(ctx.tx, "load_histories", None)
    if load is None:  # not the Piccolo store
        return
    guesses = {c: [_plan_of(c, None), *(_plan_of(c, v) for v in visits)] for c, visits in recorded.items()}
    latest = await load(guesses)
    plans = [("planned_revisits", _plan_of(c, uuid_of(v))) for c, v in latest.items() if v is not None]
    regions = set()
    for c in recorded:  # the customers were read before the hooks (``SyncEngine._prepare``)
        customer = await ctx.tx.get("customers", c)
        if customer is not None and customer.get("region_id"):
            regions.add(("regions", str(customer["region_id"])))
    await ctx.tx.prefetch([*plans, *regions])

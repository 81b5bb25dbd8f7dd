"""Wiring the cadence hooks to the server's database, and recomputing on demand.

``server_hooks()`` is what the server's ``SyncEngine`` is built with:
``SyncEngine(store, hooks=h.as_mapping(), prepare=[h.prepare])``. Every visit, customer or
cadence rule written through the sync write path then updates the planned revisits in the
same transaction (see ``hooks.py``).

``recompute_customer`` / ``recompute_all`` run the same logic outside a triggering write
(an operator repairing plans, a data import that bypassed the engine), each in one write
transaction of the engine, as the system actor.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from server.planning.cadence import Rule
from server.planning.facts import latest_history, load_rules, preload_histories
from server.planning.hooks import PlanningHooks
from server.tables import Customer
from sync.actor import Actor

log = logging.getLogger("revisit.planning")

# The server's own writes (cadence plans) are made as this actor: admin scope, a fixed
# user id that is never issued to a person.
SYSTEM_USER_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")
SYSTEM_ACTOR = Actor(user_id=SYSTEM_USER_ID, role="admin", region_id=None)


async def _rules(ctx: Any) -> list[Rule]:
    # Piccolo queries run inside the engine's transaction (contextvar) when the Piccolo
    # store opened it through Piccolo; the hook adds the rule being written either way.
    return await load_rules()


async def _tier_customers(ctx: Any, tiers: set[str]) -> list[str]:
    rows = await Customer.select(Customer.id).where(
        Customer.tier.is_in(sorted(tiers))
        & (Customer.deleted == False)  # noqa: E712
        & (Customer.archived == False)  # noqa: E712
    )
    return [str(r["id"]) for r in rows]


def server_hooks() -> PlanningHooks:
    """The hooks on the server's database: ``SyncEngine(store, hooks=h.as_mapping(), prepare=[h.prepare])``."""
    return PlanningHooks(_rules, _tier_customers, latest_history, preload_histories)


async def recompute_customer(engine: Any, customer_id: uuid.UUID) -> int:
    """Recompute one customer's plan in its own write transaction; returns #changes."""
    hooks = server_hooks()

    async def run(ctx: Any) -> int:
        return len(await hooks.recompute(ctx, str(customer_id)))

    return int(await engine.run(SYSTEM_ACTOR, run))


async def recompute_all(engine: Any, tiers: set[str] | None = None, batch: int = 200) -> int:
    """Recompute every customer (of ``tiers``), ``batch`` customers per transaction."""
    query = Customer.select(Customer.id).where(Customer.deleted == False)  # noqa: E712
    if tiers:
        query = query.where(Customer.tier.is_in(sorted(tiers)))
    ids = [str(r["id"]) for r in await query.order_by(Customer.id)]
    hooks = server_hooks()
    changed = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]

        async def run(ctx: Any, chunk: list[str] = chunk) -> int:
            rules = await load_rules()
            n = 0
            for cid in chunk:
                if await hooks.recompute(ctx, cid, rules=rules):
                    n += 1
            return n

        changed += int(await engine.run(SYSTEM_ACTOR, run))
    log.info("recomputed plans: %d of %d customers changed", changed, len(ids))
    return changed

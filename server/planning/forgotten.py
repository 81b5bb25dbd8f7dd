"""``GET /api/planning/forgotten``: customers in scope with no open plan at all.

A customer without a planned revisit feels forgotten (DESIGN, "regular, planned contact");
this is the list a rep or manager works through (archived customers are not listed)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from server.tables import Customer
from sync.actor import Actor

MAX_LIMIT = 500


class ForgottenCustomer(msgspec.Struct):
    id: UUID
    name: str
    tier: str
    stage: str
    owner_id: UUID | None
    region_id: UUID | None


class ForgottenPage(msgspec.Struct):
    items: list[ForgottenCustomer]
    total: int
    limit: int
    offset: int


_BASE = """
FROM customers c
WHERE c.archived = {} AND c.deleted = {} AND %s
  AND NOT EXISTS (SELECT 1 FROM planned_revisits p
                  WHERE p.customer_id = c.id AND p.status = 'planned' AND p.deleted = {})
"""


def _scope(actor: Actor) -> tuple[str, list[Any]]:
    if actor.role == "admin":
        return "1 = 1", []
    if actor.role == "manager":
        if actor.region_id is None:
            return "1 = 0", []
        return "c.region_id = {}", [actor.region_id]
    return "c.owner_id = {}", [actor.user_id]


def forgotten_sql(actor: Actor) -> tuple[str, list[Any]]:
    """``FROM … WHERE`` selecting the customers in the actor's scope with no open plan, and
    its parameters: the one definition of "forgotten" (this list and the coverage report)."""
    where, args = _scope(actor)
    return _BASE % where, [False, False, *args, False]


async def forgotten_page(actor: Actor, limit: int, offset: int) -> ForgottenPage:
    base, params = forgotten_sql(actor)
    total = await Customer.raw("SELECT COUNT(*) AS n " + base, *params)
    rows = await Customer.raw(
        "SELECT c.id AS id, c.name AS name, c.tier AS tier, c.stage AS stage, "
        "c.owner_id AS owner_id, c.region_id AS region_id "
        + base
        + " ORDER BY c.tier, c.name, c.id LIMIT {} OFFSET {}",
        *params,
        limit,
        offset,
    )
    items = [msgspec.convert(r, ForgottenCustomer, strict=False) for r in rows]
    return ForgottenPage(items=items, total=int(total[0]["n"]), limit=limit, offset=offset)


@get("/api/planning/forgotten", tags=["planning"], summary="Customers in scope with no open plan")
async def forgotten_customers(
    actor: NamedDependency[Actor],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
) -> ForgottenPage:
    return await forgotten_page(actor, limit, offset)

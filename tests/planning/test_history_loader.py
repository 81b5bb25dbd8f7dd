"""The server's cadence reads only a customer's latest visit and open plans
(``facts.latest_history``); it must decide exactly what reading every visit and plan
(``hooks.all_history``) decides. On the real database (SQLite, and PostgreSQL with
``REVISIT_TEST_DATABASE_URL``), and on the in-memory store, where both are every row.

A push reads those histories for all its visits' customers at once before it applies
them (``facts.preload_histories``) and the transaction keeps them up to date as it writes
(``server/sync/history.py``); whatever it writes after, the answers must stay those of
the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.planning import cadence
from server.planning.cadence import CustomerFacts, Rule
from server.planning.facts import latest_history, preload_histories
from server.planning.hooks import all_history
from tests.sync_contract.test_store_contract import (  # noqa: F401
    CUSTOMER,
    OWNER,
    backend,
    open_store,
    row,
    store,
    uid,
)

FACTS = CustomerFacts(id=uuid.UUID(CUSTOMER), tier="A", stage="active", region_id=None, owner_id=uuid.UUID(OWNER),
                      created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
RULES = [[Rule(uuid.UUID(int=1), "A", 14)], []]


def basis_plan(visit_id: str | None, **values: Any) -> dict[str, Any]:
    basis = cadence.basis_of(uuid.UUID(visit_id) if visit_id else None)
    return {"id": str(cadence.plan_id(uuid.UUID(CUSTOMER), basis)), **values}


async def decide_both_ways(store: Any,  # noqa: F811
                            rows: list[tuple[str, dict[str, Any]]], preload_at: int | None = None) -> int:
    """Save ``rows`` for the customer (preloading its history before ``rows[preload_at]``);
    compare both loaders' decisions; roll back."""
    checked = 0

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with store.write() as tx:
            await tx.save("customers", row("customers", await tx.next_seq(), id=CUSTOMER))
            ctx = SimpleNamespace(tx=tx)
            ids = [None] + [v["id"] for t, v in rows if t == "visits"] + [uid()]
            for i, (table, values) in enumerate(rows):
                if i == preload_at:
                    await preload_histories(ctx, {CUSTOMER: [uuid.UUID(v) for v in ids if v]})
                await tx.save(table, row(table, await tx.next_seq(), **values))

            def plan_id_for(visit_id: uuid.UUID | None) -> uuid.UUID:
                return cadence.plan_id(FACTS.id, cadence.basis_of(visit_id))

            every = await all_history(ctx, CUSTOMER, plan_id_for)
            for completed in ids:
                by = uuid.UUID(completed) if completed else None
                few = await latest_history(ctx, CUSTOMER, plan_id_for, by)
                assert cadence.latest_visit(few[0]) == cadence.latest_visit(every[0])
                for rules in RULES:
                    # the same changes; their order follows the order the plans were read in
                    want = sorted(map(repr, cadence.plan_changes(FACTS, rules, *every, completed_by=by)))
                    got = sorted(map(repr, cadence.plan_changes(FACTS, rules, *few, completed_by=by)))
                    assert got == want, (rows, rules, completed)
                    checked += 1
            raise Undo
    return checked


def visit(at: str, **values: Any) -> tuple[str, dict[str, Any]]:
    return "visits", {"id": values.pop("id", uid()), "customer_id": CUSTOMER, "started_at": at, **values}


def plan(**values: Any) -> tuple[str, dict[str, Any]]:
    return "planned_revisits", {"id": values.pop("id", uid()), "customer_id": CUSTOMER, "due_date": "2026-03-20",
                                **values}


async def test_latest_history_decides_like_every_row(store: Any) -> None:  # noqa: F811
    a, b, c = sorted(uid() for _ in range(3))
    late = uid()
    histories: list[list[tuple[str, dict[str, Any]]]] = [
        [],  # never visited: the initial plan
        [plan(**basis_plan(None, status="planned"))],
        [plan(**basis_plan(None, status="done"))],  # closed plan of the current basis stays closed
        [visit("2026-03-01T10:00:00+08:00", id=a), plan(**basis_plan(None, status="planned"))],
        # the same instant written in two offsets, with ids deciding the tie
        [visit("2026-03-01T02:00:00Z", id=a), visit("2026-03-01T10:00:00+08:00", id=c),
         visit("2026-03-01T02:00:00.000000Z", id=b), plan(**basis_plan(c, status="skipped"))],
        # fractions of a second, a later deleted visit, a manual plan and a stale cadence plan
        [visit("2026-03-02T08:00:00.250000Z", id=a), visit("2026-03-02T08:00:00Z", id=b),
         visit("2026-03-09T08:00:00Z", id=late, deleted=True),
         plan(source="manual", status="planned", due_date="2026-04-01"),
         plan(**basis_plan(b, status="planned")), plan(status="done"), plan(status="planned", deleted=True)],
        [visit("2026-02-27T23:59:59.999999Z", id=a), visit("2026-02-28T00:00:00Z", id=b),
         plan(**basis_plan(b, status="planned", due_date="2026-01-01")), plan(**basis_plan(a, status="planned"))],
    ]
    checked = 0
    for rows in histories:
        checked += await decide_both_ways(store, rows)
    assert checked == 2 * sum(2 + sum(t == "visits" for t, _ in rows) for rows in histories)


POOL = sorted(uid() for _ in range(4))  # visit ids: a later write of one is an update of it
PLANS = [uid() for _ in range(2)]  # plans named after no visit (manual ones, a client's own)
TIMES = ["2026-03-01T02:00:00Z", "2026-03-01T10:00:00+08:00", "2026-03-01T02:00:00.000001Z",
         "2026-02-28T23:59:59.999999Z", "2026-03-05T09:30:00Z"]


@st.composite
def writes(draw: st.DrawFn) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """Visits (new, moved in time, deleted, undeleted) and plans (of any basis, opened and
    closed) of one customer, in any order; and where the transaction preloads."""
    out: list[tuple[str, dict[str, Any]]] = []
    for _ in range(draw(st.integers(1, 10))):
        if draw(st.booleans()):
            out.append(visit(draw(st.sampled_from(TIMES)), id=draw(st.sampled_from(POOL)), deleted=draw(st.booleans())))
        else:
            basis = draw(st.sampled_from([None, *POOL]))
            values = basis_plan(basis) if draw(st.booleans()) else {"id": draw(st.sampled_from(PLANS))}
            out.append(plan(**values, status=draw(st.sampled_from(["planned", "done", "skipped", "cancelled"])),
                            source=draw(st.sampled_from(["cadence", "manual"])), deleted=draw(st.booleans())))
    return out, draw(st.integers(0, len(out) - 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=writes())
def test_preloaded_histories_stay_those_of_the_database(backend: Any, example: Any) -> None:  # noqa: F811
    """Any visits and plans written after the preload: the cadence decides as from every row."""
    rows, preload_at = example
    asyncio.run(_decide_both_ways(backend, rows, preload_at))


async def _decide_both_ways(backend: Any, rows: list[tuple[str, dict[str, Any]]], preload_at: int) -> None:  # noqa: F811
    async with open_store(backend) as s:
        await decide_both_ways(s, rows, preload_at)

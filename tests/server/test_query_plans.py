"""The database reads a push makes for the cadence stay index seeks per customer, however
long the customers' histories and however many open plans the database holds: the
latest live visit is the last entry of ``visits_customer_latest`` and the plans are found
by ``customer_id``. (Before, the latest visit was found by sorting every visit of the
customers, and SQLite chose to read every open plan of the database through the status
index; both grew with the data, not with the push.)"""

from __future__ import annotations

from typing import Any

import pytest

from server import db
from server.sync.store import _histories_sql


async def _plan(customers: int, plans: int) -> str:
    """The query plan of the cadence's histories read, as text."""
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(max(customers, plans))]
    args = (*ids[:customers], "planned", False, *ids[:plans], False, *ids[:customers])
    if db.is_sqlite():
        sql = _histories_sql(customers, plans, False)
        rows = await db.run_sql("EXPLAIN QUERY PLAN " + sql, args)
        return "\n".join(str(r["detail"]) for r in rows)
    sql = _histories_sql(customers, plans, True)
    async with db.read_transaction():
        # Empty tables read fastest by a scan: ask for the plan the indexes allow.
        await db.run_sql("SET LOCAL enable_seqscan = off", ())
        await db.run_sql("SET LOCAL enable_bitmapscan = off", ())
        rows = await db.run_sql("EXPLAIN " + sql, args)
    return "\n".join(str(next(iter(r.values()))) for r in rows)


async def test_the_latest_visit_of_each_customer_is_read_from_its_index(database: Any) -> None:
    plan = await _plan(128, 256)
    assert "visits_customer_latest" in plan
    if db.is_sqlite():  # covering: no visit row is read until the latest one is found
        assert "USING COVERING INDEX visits_customer_latest (customer_id=? AND deleted=?)" in plan
        assert "TEMP B-TREE" not in plan  # no sort of the customers' visits


async def test_open_plans_are_found_by_customer_not_by_status(database: Any) -> None:
    plan = await _plan(128, 256)
    assert "planned_revisits_customer_id" in plan
    assert "planned_revisits_status_due" not in plan


async def test_a_pulls_statements_are_planned_for_their_arguments_on_postgresql(database: Any) -> None:
    """PostgreSQL may keep one generic plan for a prepared statement after its fifth run; for
    the last page of a small bucket that plan read every other bucket's rows through the
    ``seq`` index (70-110 ms instead of 5-13 ms, docs/benchmarks.md). In a pull's snapshot
    the setting that plans each run for its arguments holds, and only there."""
    from server.sync.store import PiccoloSyncStore

    if db.is_sqlite():
        pytest.skip("SQLite plans every statement for its arguments")
    async with PiccoloSyncStore().read():
        inside = await db.run_sql("SHOW plan_cache_mode", ())
        isolation = await db.run_sql("SHOW transaction_isolation", ())
    async with db.read_transaction():
        outside = await db.run_sql("SHOW plan_cache_mode", ())
    assert next(iter(inside[0].values())) == "force_custom_plan"
    assert next(iter(isolation[0].values())) == "repeatable read"
    assert next(iter(outside[0].values())) == "auto"

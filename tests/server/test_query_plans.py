"""The database reads a push makes for the cadence stay index seeks per customer, however
long the customers' histories and however many open plans the database holds: the
latest live visit is the last entry of ``visits_customer_latest`` and the plans are found
by ``customer_id``. (Before, the latest visit was found by sorting every visit of the
customers, and SQLite chose to read every open plan of the database through the status
index; both grew with the data, not with the push.)"""

from __future__ import annotations

from typing import Any

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


async def _fill_visits(small: str, big: str, small_rows: int, big_rows: int) -> None:
    """``small_rows`` visits in ``small``'s bucket at seq 1.., then ``big_rows`` in ``big``'s."""
    customer = "00000000-0000-4000-8000-00000000c001"
    total = small_rows + big_rows
    if db.is_sqlite():
        await db.run_sql(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {}) "
            "INSERT INTO visits (id, customer_id, rep_id, owner_id, region_id, started_at, seq) "
            "SELECT printf('00000000-0000-4000-8000-%012d', n), {}, {}, "
            "CASE WHEN n <= {} THEN {} ELSE {} END, NULL, '2026-11-01T00:00:00+00:00', n FROM g",
            (total, customer, small, small_rows, small, big),
        )
        return
    await db.run_sql(
        "INSERT INTO visits (id, customer_id, rep_id, owner_id, region_id, started_at, seq) "
        "SELECT md5(n::text)::uuid, {}::uuid, {}::uuid, "
        "CASE WHEN n <= {} THEN {}::uuid ELSE {}::uuid END, NULL, now(), n FROM generate_series(1, {}) AS n",
        (customer, small, small_rows, small, big, total),
    )
    await db.run_sql("ANALYZE visits", ())


async def test_a_small_buckets_last_page_reads_only_its_own_rows_under_any_plan(database: Any) -> None:
    """The last page of a small bucket beside a big one, and every incremental pull, asks
    for the changes up to the high-water mark. PostgreSQL may keep one generic plan for a
    prepared statement after its fifth run; for ``owner_id = $1 AND seq > $2 AND seq <= $3``
    that plan read the ``seq`` index of the whole table and filtered every other bucket's
    rows (70 ms for 100 rows beside 60,000; docs/benchmarks.md). The page's ranges are row
    comparisons, which any plan reads from the bucket's own index."""
    from server.sync.store import _changes_sql

    small, big = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b2"
    await _fill_visits(small, big, 500, 30_000)
    sql, args = _changes_sql(f"rep:{small}", 400, 30_500, 500)
    if db.is_sqlite():  # SQLite plans every statement for its arguments: the plan it would take
        rows = await db.run_sql("EXPLAIN QUERY PLAN " + sql, args)
        plan = "\n".join(str(r["detail"]) for r in rows)
        assert "SEARCH visits USING INDEX visits_owner_seq ((owner_id,seq)>(?,?) AND (owner_id,seq)<(?,?))" in plan
        assert "sync_removals_bucket_seq ((bucket,seq)>(?,?)" in plan
    else:
        numbered = db._compiled(sql, "postgres")  # ``{}`` to ``$n``, as ``run_sql`` sends it
        literals = ", ".join(str(a) if isinstance(a, int) else f"'{a}'" for a in args)
        async with db.read_transaction():
            await db.run_sql("SET LOCAL plan_cache_mode = force_generic_plan", ())
            await db.run_script(f"PREPARE page AS {numbered}")
            try:
                rows = await db.run_sql(f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE page({literals})", ())
            finally:
                await db.run_script("DEALLOCATE page")
        plan = "\n".join(str(next(iter(r.values()))) for r in rows)
        assert "Index Scan using visits_owner_seq on visits" in plan, plan
        assert "Rows Removed by Filter" not in plan, plan  # no other bucket's row was read
    page = await db.run_sql(sql, args)
    assert [r["v"] for r in page] == list(range(401, 501))  # the bucket's last 100 changes, in order

"""Property: whatever valid values a row holds, ``changes`` (what a pull sends, R-PULL-2)
and ``get`` give back exactly the row written, in canonical wire form (R-SCHEMA-1): floats
to the bit, decimals to the cent, datetimes to the microsecond, text of any characters the
schema takes. Memory, SQLite and (with ``REVISIT_TEST_DATABASE_URL``) PostgreSQL; on
PostgreSQL it found values the schema took but the columns could not hold (U+0000 in
text, amounts wider than ``numeric(12, 2)``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.buckets import GLOBAL
from sync.schema import GLOBAL_TABLES, TABLES, FieldError, to_wire
from sync.store import row_of
from tests.sync_contract.test_store_contract import backend, open_store, row  # noqa: F401 (fixture)

# the tables sync writes, less cadence rules (one per tier: random rows would collide)
SYNCED = [t for t in TABLES if t not in ("users", "cadence_rules")]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5, minutes=-30))])
BY_KIND: dict[str, st.SearchStrategy[Any]] = {
    "uuid": st.uuids(),
    "str": st.text(max_size=60),
    "int": st.integers(-(2**31), 2**31),
    "float": st.floats(-90, 90) | st.floats(-180, 180) | st.floats(0, 1e7) | st.integers(-90, 90).map(float)
    | st.just(-0.0),
    "bool": st.booleans(),
    "decimal": st.decimals(0, Decimal("999999999999.99"), places=2) | st.decimals(0, 10**6, places=5)
    | st.sampled_from([Decimal("-0.00"), Decimal("-0.004")]),
    "date": st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)),
    # hypothesis takes naive bounds and attaches a zone from ``timezones``
    "datetime": st.datetimes(dt.datetime(1900, 1, 2), dt.datetime(2200, 12, 30), timezones=ZONES),  # noqa: DTZ001
    "json": JSON | st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5)
    | st.lists(st.text(min_size=1, max_size=40), max_size=5),
}
FIXED = {"id", "seq", "clocks", "owner_id", "region_id", "customer_id", "rep_id", "author_id"}  # set by ``row`` (as the engine does)
UNIQUE = {("regions", "name"), ("customers", "external_id")}  # unique columns keep ``row``'s value


@st.composite
def rows(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A table and valid values for any of its client-set fields (a value the schema refuses
    keeps ``row``'s; the server sets the others, as ``row`` does)."""
    table = draw(st.sampled_from(SYNCED))
    base = row(table, 1)  # a field the engine fills when absent (``unit_value``) keeps a value
    values: dict[str, Any] = {}
    for f in TABLES[table].fields.values():
        if f.name in FIXED or f.server_set or (table, f.name) in UNIQUE or not draw(st.booleans()):
            continue
        raw = draw(st.none() | BY_KIND[f.kind]) if base[f.name] is None else draw(BY_KIND[f.kind])
        if isinstance(raw, uuid.UUID | dt.date | Decimal):
            raw = str(raw) if not isinstance(raw, dt.datetime) else raw.isoformat()
        try:
            values[f.name] = to_wire(f, raw)
        except FieldError:
            pass
    return table, values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(examples=st.lists(rows(), min_size=1, max_size=6))
def test_a_pulled_row_is_the_row_written_for_any_valid_values(backend: Any, examples: list[tuple[str, dict[str, Any]]]) -> None:  # noqa: F811
    asyncio.run(_round_trip(backend, examples))


async def _round_trip(backend: Any, examples: list[tuple[str, dict[str, Any]]]) -> None:  # noqa: F811
    async with open_store(backend) as store:
        owner = str(uuid.uuid4())
        async with store.write() as tx:
            written = []
            for table, values in examples:
                r = row(table, await tx.next_seq(), **values)
                if "owner_id" in r:
                    r["owner_id"] = owner
                await tx.save(table, r)
                written.append((table, r))
        async with store.read() as rx:
            for table, r in written:
                bucket = GLOBAL if table in GLOBAL_TABLES else f"rep:{owner}"
                found = await rx.changes(bucket, r["seq"] - 1, r["seq"], 10)
                assert [(c.table, c.row_id) for c in found] == [(table, r["id"])]
                # the same values, types and field order as Python's JSON of the row written
                assert msgspec.json.encode(row_of(found[0].row)) == msgspec.json.encode(r), table
                assert await rx.get(table, r["id"]) == r, table

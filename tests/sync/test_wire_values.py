"""R-SCHEMA-1: the canonical wire form of a client's values, as the server stores and
sends them back: decimals with two places, floats as floats, datetimes in UTC with ``Z``,
and no negative zero (the databases store none, so a device would see its -0.0 come back
as 0.0)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sync.schema import TABLES, FieldError, to_wire

VISIT = TABLES["visits"].fields


@pytest.mark.parametrize(
    ("field", "given", "sent"),
    [
        ("order_value", "12.5", "12.50"),
        ("order_value", 7, "7.00"),
        ("order_value", "0.125", "0.12"),  # half to even, as Decimal rounds
        ("order_value", "-0.00", "0.00"),
        ("order_value", "-0.001", "0.00"),
        ("latitude", 31, 31.0),
        ("latitude", -12.25, -12.25),
        ("started_at", "2026-11-25T08:00:00+08:00", "2026-11-25T00:00:00Z"),
        ("started_at", "2026-11-25T00:00:00.250000Z", "2026-11-25T00:00:00.250000Z"),
        ("planned_for", "2026-11-24", "2026-11-24"),
    ],
)
def test_values_take_their_canonical_form(field: str, given: Any, sent: Any) -> None:
    out = to_wire(VISIT[field], given)
    assert out == sent and type(out) is type(sent)


def test_negative_zero_is_sent_as_zero() -> None:
    out = to_wire(VISIT["latitude"], -0.0)
    assert out == 0.0 and math.copysign(1.0, out) == 1.0


@pytest.mark.parametrize(
    ("table", "field", "given"),
    [
        ("visits", "order_value", "-0.01"),
        ("visits", "order_value", "NaN"),
        ("visits", "order_value", "1000000000000"),  # the column is numeric(14, 2)
        ("gifts", "unit_value", "10000000000"),  # numeric(12, 2)
        ("gift_items", "yearly_cap", "10000000000.00"),
        ("visits", "latitude", 91.0),
        ("visits", "started_at", "2026-11-25T08:00:00"),  # naive
        ("visits", "notes", "a\x00b"),  # PostgreSQL text cannot hold U+0000
    ],
)
def test_values_out_of_range_or_form_are_refused(table: str, field: str, given: Any) -> None:
    with pytest.raises(FieldError) as err:
        to_wire(TABLES[table].fields[field], given)
    assert err.value.field == field


def test_the_largest_amounts_are_taken() -> None:
    assert to_wire(VISIT["order_value"], "999999999999.99") == "999999999999.99"
    assert to_wire(TABLES["gifts"].fields["unit_value"], "9999999999.99") == "9999999999.99"

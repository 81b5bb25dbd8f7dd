"""R-PULL-2: a pulled row carries every schema field of its table, in schema order, and
nothing else, whatever the store handed over (the schema's own row, a row with its
fields in another order, with fields missing, or with columns that are never sent)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import msgspec
import pytest

from sync.schema import TABLES, public_row


def _schema_row(table: str) -> dict[str, Any]:
    return {name: f"{table}.{name}" for name in TABLES[table].fields}


def _wire(row: dict[str, Any]) -> bytes:
    return msgspec.json.encode(row)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_row_of_exactly_the_schema_fields_is_sent_as_it_is(table: str) -> None:
    row = _schema_row(table)
    expected = _wire(row)
    out = public_row(TABLES[table], row)
    assert _wire(out) == expected
    assert list(out) == list(TABLES[table].fields)


def test_fields_in_another_order_are_sent_in_schema_order() -> None:
    spec = TABLES["visits"]
    row = dict(reversed(_schema_row("visits").items()))
    out = public_row(spec, row)
    assert list(out) == list(spec.fields)
    assert _wire(out) == _wire(_schema_row("visits"))


def test_missing_fields_are_null_and_unknown_columns_are_not_sent() -> None:
    spec = TABLES["users"]
    full = _schema_row("users")
    names = list(spec.fields)
    missing = {k: v for k, v in full.items() if k != names[-1]}
    assert public_row(spec, missing) == {**missing, names[-1]: None}
    assert list(public_row(spec, missing)) == names
    extra = {**full, "password_hash": "secret"}
    out = public_row(spec, extra)
    assert "password_hash" not in out
    assert _wire(out) == _wire(full)
    assert extra["password_hash"] == "secret"  # the caller's row is not changed


def test_a_mapping_that_is_not_a_dict_becomes_a_dict() -> None:
    spec = TABLES["notes"]
    proxy = MappingProxyType(_schema_row("notes"))
    out = public_row(spec, proxy)
    assert type(out) is dict
    assert out == dict(proxy)

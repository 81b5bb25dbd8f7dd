"""Small conversions between partial-update structs, rows and put mutations."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from server.errors import ApiError


def check_text(values: Any, where: str = "body") -> None:
    """Refuse NUL characters: PostgreSQL cannot store them in text, so they would fail late."""
    if isinstance(values, str):
        if "\x00" in values:
            raise ApiError(400, "validation", f"{where}: contains a NUL character")
    elif isinstance(values, dict):
        for key, value in values.items():
            check_text(value, str(key))
    elif isinstance(values, list | tuple):
        for value in values:
            check_text(value, where)


def aware(value: datetime | None, name: str) -> datetime | None:
    """Query datetimes must carry an offset, like body datetimes (R-SCHEMA-1)."""
    if value is not None and value.tzinfo is None:
        raise ApiError(400, "validation", f"{name}: needs a time zone offset")
    return value


def changed_fields(data: msgspec.Struct) -> dict[str, Any]:
    """The fields present in a PATCH body; an empty body is a 400, not a silent no-op."""
    values = {
        name: value
        for name in type(data).__struct_fields__
        if (value := getattr(data, name)) is not msgspec.UNSET
    }
    if not values:
        raise ApiError(400, "validation", "body: no field to change")
    return values


def clocks_of(row: dict[str, Any]) -> dict[str, str]:
    """The row's per-field clocks: the bases of a REST put (R-PUT-1)."""
    raw = row.get("clocks")
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


MAX_AMOUNT = Decimal("1000000000000")
CENTS = Decimal("0.01")


def cents(value: Decimal | None) -> Decimal | None:
    """Money always leaves with two decimals (R-SCHEMA-1), whatever the database kept."""
    return None if value is None else Decimal(value).quantize(CENTS)


def check_amounts(**amounts: Decimal | None) -> None:
    """Money is finite, not negative and below 10^12 (msgspec cannot bound a Decimal)."""
    for name, value in amounts.items():
        if value is None:
            continue
        if not value.is_finite() or value < 0 or value >= MAX_AMOUNT:
            raise ApiError(400, "validation", f"{name}: must be an amount from 0 to {MAX_AMOUNT}")

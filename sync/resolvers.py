"""The conflict policy: a table from (table, field) to a named pure resolver (R-MERGE-2).

A register is ``(value, clock)``. Every resolver is commutative, associative and
idempotent, so replicas converge whatever order writes arrive in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

Register = tuple[Any, str]
Resolver = Callable[[Register, Register], Register]


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: the tie-break key for equal clocks (R-MERGE-2)."""
    return msgspec.json.encode(value, order="sorted").decode()


def _by_clock(a: Register, b: Register) -> Register:
    if a[1] != b[1]:
        return a if a[1] > b[1] else b
    return a if canonical_json(a[0]) >= canonical_json(b[0]) else b


def lww(a: Register, b: Register) -> Register:
    """Last writer wins by (HLC, node), which the clock string already orders."""
    return _by_clock(a, b)


def sticky_true(a: Register, b: Register) -> Register:
    """Tombstones stay (R-DEL-1): ``true`` beats ``false`` whatever the clocks."""
    if (a[0] is True) != (b[0] is True):
        return a if a[0] is True else b
    return _by_clock(a, b)


RESOLVERS_BY_NAME: dict[str, Resolver] = {"lww": lww, "sticky_true": sticky_true}

# (table, field) -> resolver name; anything not listed uses DEFAULT_RESOLVER.
RESOLVERS: dict[tuple[str, str], str] = {
    ("contacts", "deleted"): "sticky_true",
    ("visits", "deleted"): "sticky_true",
    ("gifts", "deleted"): "sticky_true",
    ("notes", "deleted"): "sticky_true",
    ("planned_revisits", "deleted"): "sticky_true",
    ("stock_movements", "deleted"): "sticky_true",
    ("conflicts", "deleted"): "sticky_true",
    ("regions", "deleted"): "sticky_true",
    ("gift_items", "deleted"): "sticky_true",
    ("cadence_rules", "deleted"): "sticky_true",
}
DEFAULT_RESOLVER = "lww"


def resolver_name(table: str, field: str) -> str:
    return RESOLVERS.get((table, field), DEFAULT_RESOLVER)


def resolver_for(table: str, field: str) -> Resolver:
    return RESOLVERS_BY_NAME[resolver_name(table, field)]


def merge(table: str, field: str, a: Register, b: Register) -> Register:
    return resolver_for(table, field)(a, b)

"""One paged query shape for every record list: scope first, then filters, then a page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from piccolo.columns import Column
from piccolo.table import Table

from server.rest.scope import live, scope_where
from sync.actor import Actor

T = TypeVar("T")


async def page(
    table: type[Table],
    actor: Actor,
    filters: Sequence[Any],
    order: Sequence[Column],
    limit: int,
    offset: int,
    convert: Callable[[dict[str, Any]], T],
    *,
    ascending: bool = False,
) -> tuple[list[T], int]:
    """Live rows of ``table`` in the caller's scope, newest (or ``ascending``) first."""
    where = [scope_where(table, actor), live(table), *filters]
    total = await table.count().where(*where)
    rows = (
        await table.select()
        .where(*where)
        .order_by(*order, ascending=ascending)
        .order_by(table._meta.primary_key, ascending=ascending)
        .limit(limit)
        .offset(offset)
    )
    return [convert(r) for r in rows], total

"""The REST API's only way to change synced data: mutations through the sync engine.

Every write (create, put, command) is handed to ``server.sync.service.apply_mutations``
so the change feed, per-field clocks, bucket checksums and conflict records can never
disagree with the rows (docs/architecture.md, "Write path"). This module only builds
the mutations (wire shapes of docs/sync-protocol.md §4.1) and turns a rejection into
the matching problem-details error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from server.db import write_transaction
from server.errors import ApiError
from server.rest.values import check_text
from sync.actor import Actor

# rejection code (R-PUSH-13, R-CMD-*) -> HTTP status
_STATUS = {
    "validation": 400,
    "not_found": 404,
    "forbidden": 403,
    "out_of_scope": 403,
    "invalid_target": 400,
    "unknown_command": 400,
    "insufficient_stock": 409,
}


class Outcome(msgspec.Struct):
    status: str
    code: str | None = None
    message: str | None = None
    conflicts: list[str] = msgspec.field(default_factory=list)


def create(table: str, row_id: UUID, row: dict[str, Any]) -> dict[str, Any]:
    check_text(row)
    return {"kind": "create", "table": table, "id": str(row_id), "row": _wire(row)}


def put(table: str, row_id: UUID, values: dict[str, Any], bases: dict[str, Any]) -> dict[str, Any]:
    """A put whose base is the field's current clock: a REST edit is sequential (R-PUT-3)
    unless someone else wrote the field between our read and our write."""
    check_text(values)
    fields = {
        name: {"value": _wire(value), "base": bases.get(name)} for name, value in values.items()
    }
    return {"kind": "put", "table": table, "id": str(row_id), "fields": fields}


def command(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "command", "name": name, "args": _wire(args)}


def _wire(value: Any) -> Any:
    return msgspec.to_builtins(value)


async def apply(actor: Actor, mutations: Sequence[dict[str, Any]]) -> list[Outcome]:
    """Apply in one transaction; any rejection raises and nothing at all is kept."""
    if len(mutations) == 1:
        outcomes = await _engine_apply(actor, list(mutations))
    else:
        outcomes = await _engine_apply_all_or_nothing(actor, list(mutations))
    for outcome in outcomes:
        _raise_if_rejected(outcome)
    return outcomes


async def apply_one(actor: Actor, mutation: dict[str, Any]) -> Outcome:
    return (await apply(actor, [mutation]))[0]


def _raise_if_rejected(outcome: Outcome) -> None:
    if outcome.status == "rejected":
        code = outcome.code or "validation"
        raise ApiError(_STATUS.get(code, 400), code, outcome.message or code)


def _service() -> Any:
    from server.sync import service  # imported late: the engine pulls in planning hooks

    return service


def _outcome(result: Any) -> Outcome:
    return msgspec.convert(msgspec.to_builtins(result), Outcome)


async def _engine_apply(actor: Actor, mutations: list[dict[str, Any]]) -> list[Outcome]:
    # A rejected mutation applies nothing (R-PUSH-12), so one mutation is atomic as is.
    results = await _service().apply_mutations(actor, mutations, client_id=None)
    return [_outcome(r) for r in results]


class _Rejected(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


async def _engine_apply_all_or_nothing(
    actor: Actor, mutations: list[dict[str, Any]]
) -> list[Outcome]:
    """Several mutations that stand or fall together. The engine keeps the applied ones
    of a batch (as a push must), so the batch runs inside an outer write transaction
    (the engine's own one nests into it) that rolls back on the first rejection."""
    service = _service()
    try:
        async with write_transaction():
            outcomes = [_outcome(r) for r in await service.apply_mutations(actor, mutations)]
            rejected = next((o for o in outcomes if o.status == "rejected"), None)
            if rejected is not None:
                raise _Rejected(rejected)
            return outcomes
    except _Rejected as exc:
        _raise_if_rejected(exc.outcome)
        raise


async def server_update(
    actor: Actor, table: str, row_id: UUID, before: dict[str, Any] | None = None
) -> None:
    """Give a row written outside the engine (users, R-SCHEMA-3 down-only) a new ``seq``
    inside the caller's transaction, so devices receive the change. ``before`` holds the
    bucket-deciding fields as they were (a user's old ``region_id``)."""
    await _service().touch(actor, table, str(row_id), before)

"""The one write path (docs/architecture.md, "Write path") and the process's sync engine.

Every write to synced data, from a device push or from the REST API, goes through the
same ``SyncEngine`` so the change feed, per-field clocks, bucket checksums and conflict
records always agree with the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from server.sync.store import PiccoloSyncStore, chunks
from sync.actor import Actor
from sync.engine import SyncEngine, WriteContext, ms
from sync.hlc import SERVER_NODE, Clock, is_clock
from sync.messages import Malformed, Mutation, MutationResult, to_mutation
from sync.schema import TABLES, FieldError, to_wire

_engines: dict[bool, SyncEngine] = {}
_clock = Clock(SERVER_NODE)  # one server HLC per process, shared by both engines
_mutation = msgspec.json.Decoder(Mutation)
READ_AHEAD_DEVICES = 32
"""Devices whose next pull page is made while they handle the last (``sync.readahead``):
an initial sync of several devices at once; about 0.4 MB per kept page of 500 visits."""


def get_engine(*, hooks: bool = True) -> SyncEngine:
    """The process's engine (its server HLC must be one per process, R-HLC-2)."""
    if hooks not in _engines:
        from server.planning.recompute import server_hooks

        store = PiccoloSyncStore()
        planning = server_hooks() if hooks else None
        engine = SyncEngine(
            store,
            hooks=planning.as_mapping() if planning else {},
            prepare=[planning.prepare] if planning else (),
            read_ahead=READ_AHEAD_DEVICES,
        )
        engine.clock = _clock
        _engines[hooks] = engine
    return _engines[hooks]


async def settle() -> None:
    """Until the engines' work that requests did not wait for is done (pull pages read
    ahead, pulls' positions recorded), before the database closes."""
    for engine in _engines.values():
        await engine.settle()


async def startup() -> None:
    """Create the database epoch if the database has none yet (R-CUR-4)."""
    await PiccoloSyncStore().ensure_epoch()


def _as_mutation(engine: SyncEngine, index: int, m: Mutation | Mapping[str, Any]) -> Mutation | Malformed:
    if not isinstance(m, Mapping):
        return m
    body = dict(m)
    body.setdefault("n", index + 1)
    if "hlc" not in body:
        # R-HLC-6 for the server as a writer: its stamp must exceed every base it carries
        for write in (body.get("fields") or {}).values():
            base = write.get("base") if isinstance(write, Mapping) else None
            if isinstance(base, str) and is_clock(base):
                engine.clock.observe(base, ms(engine.now()))
        body["hlc"] = engine.server_hlc()
    return to_mutation(body, index)


async def apply_mutations(
    actor: Actor,
    mutations: Sequence[Mutation | Mapping[str, Any]],
    client_id: str | None = None,
) -> list[MutationResult]:
    """Apply create/put/command mutations as ``actor`` in one write transaction.

    ``client_id=None``: a write of the server itself (REST): no idempotency record, and
    ``n``/``hlc`` may be omitted (the server stamps them). With a ``client_id`` it is a
    push without the HTTP envelope (R-PUSH-*). Rejections come back as results; they do
    not raise.
    """
    engine = get_engine()
    ms = [_as_mutation(engine, i, m) for i, m in enumerate(mutations)]
    return await engine.apply_mutations(actor, ms, client_id)


async def touch(actor: Actor, table: str, row_id: str, before: Mapping[str, Any] | None = None) -> None:
    """Give a row written outside the engine (users) a new seq so devices receive it.

    Runs inside the caller's transaction when there is one. ``before`` carries the
    bucket-deciding fields as they were before the caller's change (``region_id`` for
    users, ``owner_id``/``region_id`` for customer data); without it the buckets are
    assumed unchanged.
    """
    engine = get_engine()

    async def bump(ctx: WriteContext) -> None:
        row = await ctx.tx.get(table, str(row_id))
        if row is None:
            return
        old = None if row["seq"] == 0 else {**row, **{k: _str(v) for k, v in (before or {}).items()}}
        await ctx.write_row(table, dict(row), old)

    await engine.run(actor, bump)


def _str(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, bool | int | float | str) else value


async def bulk_write(
    actor: Actor,
    rows: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    batch: int = 500,
    run_hooks: bool = False,
) -> int:
    """Insert many rows quickly (demo data, imports) with seq, clocks and checksums right.

    Values may be Python objects (UUID, datetime, Decimal) or wire values; each row must
    be complete for its table (owner_id/region_id set for customer data). Rows whose id
    exists are skipped. ``run_hooks=False`` skips planning hooks (recompute afterwards).
    """
    engine = get_engine(hooks=run_hooks)
    written = 0
    for chunk in chunks(rows, batch):

        async def write(ctx: WriteContext, chunk: list[tuple[str, Mapping[str, Any]]] = chunk) -> int:
            n = 0
            for table, row in chunk:
                spec = TABLES[table]
                wire = {}
                for name, value in row.items():
                    if name in spec.fields and name not in ("seq", "clocks"):
                        try:
                            wire[name] = to_wire(spec.fields[name], value)
                        except FieldError as exc:
                            raise ValueError(f"{table}.{exc}") from None
                if await ctx.tx.get(table, wire["id"]) is not None:
                    continue
                await ctx.create_as_server(table, wire)
                n += 1
            return n

        written += int(await engine.run(actor, write))
    return written


async def run(actor: Actor, fn: Callable[[WriteContext], Awaitable[Any]]) -> Any:
    """Server-side writes in one engine transaction (jobs, planning recompute)."""
    return await get_engine().run(actor, fn)


async def finalize_bulk_load(tables: Sequence[str]) -> int:
    """Give rows bulk-inserted with ``seq = 0`` their versions, clocks and checksums.

    For loaders that insert with ``Table.insert`` (demo data, imports): call it inside the
    same write transaction, after the inserts. One ``UPDATE ... FROM`` per table assigns a
    contiguous block of seqs (R-CUR-1); every field register gets one server clock
    (R-MERGE-1); bucket counts and checksums are added in O(1) per row (R-SUM-2).
    Returns the number of rows finalized.
    """
    from server.sync.store import _q

    engine = get_engine(hooks=False)

    async def finalize(ctx: WriteContext) -> int:
        total = 0
        for table in tables:
            spec = TABLES.get(table)
            if spec is None:
                continue
            count_rows = await _q(f"SELECT COUNT(*) AS n FROM {table} WHERE seq = 0")
            n = int(count_rows[0]["n"])
            if n == 0:
                continue
            first = await ctx.tx.next_seq()
            for _ in range(n - 1):
                await ctx.tx.next_seq()
            stamp = ctx.server_clock()
            clocks = msgspec.json.encode({f: stamp for f in spec.clock_fields}).decode()
            await _q(
                f"UPDATE {table} SET seq = {{}} + r.rn - 1, clocks = {{}} FROM "
                f"(SELECT id AS rid, row_number() OVER (ORDER BY id) AS rn FROM {table} WHERE seq = 0) AS r "
                f"WHERE {table}.id = r.rid",
                first,
                clocks,
            )
            bucket_cols = [c for c in ("owner_id", "region_id") if c in spec.fields]
            rows = await _q(
                f"SELECT id, seq, deleted{''.join(', ' + c for c in bucket_cols)} FROM {table} "
                "WHERE seq >= {} AND seq < {}",
                first,
                first + n,
            )
            for raw in rows:
                if raw["deleted"]:
                    continue
                row = {c: (str(raw[c]) if raw[c] is not None else None) for c in bucket_cols}
                ctx.add_to_buckets(table, str(raw["id"]), int(raw["seq"]), row)
            total += len(rows)
        return total

    return int(await engine.run(SYSTEM, finalize))


SYSTEM = Actor(user_id=uuid.UUID("00000000-0000-0000-0000-000000000001"), role="admin", region_id=None)  # the server itself

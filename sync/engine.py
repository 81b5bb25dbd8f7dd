"""Push, pull and verify over a ``SyncStore``: the protocol's server side, step by step.

Every rule implemented here is cited by number from docs/sync-protocol.md.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from sync import checksum
from sync.actor import Actor
from sync.background import Background
from sync.buckets import GLOBAL, buckets_of, device_buckets, rep_bucket, visible
from sync.cursor import BadCursor, CursorState
from sync.cursor import decode as decode_cursor
from sync.cursor import encode as encode_cursor
from sync.hlc import SERVER_NODE, Clock, Hlc, InvalidClock
from sync.ids import canonical
from sync.messages import (
    MAX_CLOCK_AHEAD_MS,
    MAX_MUTATIONS,
    MAX_PAGE,
    MAX_ROW_BYTES,
    PROTOCOL_VERSION,
    SUPPORTED_PROTOCOLS,
    BucketSum,
    Change,
    Command,
    Create,
    Malformed,
    Mutation,
    MutationResult,
    Op,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Put,
    RawPushRequest,
    Rejection,
    SyncError,
    VerifyResponse,
    result_decoder,
    to_mutation,
)
from sync.readahead import Key, Page, ReadAhead
from sync.resolvers import canonical_json, resolver_for
from sync.schema import (
    TABLES,
    FieldError,
    TableSpec,
    public_row,
    validate_create,
    validate_put_value,
)
from sync.store import (
    BucketStats,
    ClientState,
    Head,
    ReadTx,
    Row,
    StoredChange,
    SyncStore,
    WireRow,
    WriteTx,
    as_decimal,
)
from sync.uuid7 import uuid7

CommandHandler = Callable[["WriteContext", dict[str, Any]], Awaitable[list[str] | None]]
"""A command: validate everything first, raise ``Rejection`` before writing anything."""

Hook = Callable[["WriteContext", str, Row | None, Row], Awaitable[None]]
"""Called inside the write transaction after a row of a table changed (old, new)."""

Prepare = Callable[["WriteContext", Sequence[Mutation]], Awaitable[None]]
"""Called once per write transaction before its mutations apply, with the new ones (not
replays), after the rows they name are prefetched: hooks read there, in one go, what they
will read for each mutation."""


def utc_iso(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ms(now: dt.datetime) -> int:
    return int(now.timestamp() * 1000)


def check_protocol(value: Any) -> None:
    """R-VER-2."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in SUPPORTED_PROTOCOLS:
        raise SyncError(
            400,
            "protocol_unsupported",
            f"protocol {value!r} is not supported",
            supported=list(SUPPORTED_PROTOCOLS),
        )


class _Envelope(msgspec.Struct):
    protocol: Any = None


_envelope = msgspec.json.Decoder(_Envelope)


def parse_request(body: bytes, decoder: msgspec.json.Decoder[Any]) -> Any:
    """Check the protocol number before the shape (R-VER-2), then decode (R-PUSH-10)."""
    try:
        env = _envelope.decode(body)
    except msgspec.DecodeError as exc:
        raise SyncError(400, "validation", f"malformed JSON: {exc}") from None
    check_protocol(env.protocol)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise SyncError(400, "validation", str(exc)) from None
    except msgspec.DecodeError as exc:
        raise SyncError(400, "validation", f"malformed JSON: {exc}") from None


@dataclass
class WriteContext:
    """What a mutation, command or hook may do inside the write transaction."""

    engine: SyncEngine
    tx: WriteTx
    actor: Actor
    now: dt.datetime
    client_id: str | None
    deltas: dict[str, tuple[int, int]] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    """Scratch space that lives as long as the transaction (hooks keep caches here)."""

    def server_clock(self, row: Row | None = None) -> str:
        """A server stamp greater than every clock the row holds (R-MERGE-1)."""
        clock = self.engine.clock
        if row:
            for c in (row.get("clocks") or {}).values():
                if isinstance(c, str):
                    try:
                        clock.observe(c, ms(self.now))
                    except InvalidClock:
                        pass
        return clock.tick(ms(self.now))

    def _delta(self, bucket: str, sign: int, h: int) -> None:
        count, total = self.deltas.get(bucket, (0, 0))
        total = checksum.add(total, h) if sign > 0 else checksum.sub(total, h)
        self.deltas[bucket] = (count + sign, total)

    def add_to_buckets(self, table: str, row_id: str, seq: int, row: Mapping[str, Any]) -> None:
        """Count a live row written outside ``write_row`` (bulk loads) in its buckets."""
        h = checksum.row_hash(table, row_id, seq)
        for b in buckets_of(table, row):
            self._delta(b, +1, h)

    async def write_row(self, table: str, new: Row, old: Row | None) -> Row:
        """Give the row a new seq, keep bucket checksums and removals right (R-CUR-1, R-SUM-2, R-BUCKET-4)."""
        new = dict(new)
        new["seq"] = await self.tx.next_seq()
        old_buckets = buckets_of(table, old) if old else []
        new_buckets = buckets_of(table, new)
        if old and not old["deleted"]:
            h = checksum.row_hash(table, old["id"], old["seq"])
            for b in old_buckets:
                self._delta(b, -1, h)
        if not new["deleted"]:
            h = checksum.row_hash(table, new["id"], new["seq"])
            for b in new_buckets:
                self._delta(b, +1, h)
        for b in old_buckets:
            if b not in new_buckets:
                await self.tx.add_removal(b, await self.tx.next_seq(), table, new["id"])
        await self.tx.save(table, new)
        for hook in self.engine.hooks.get(table, ()):
            await hook(self, table, old, new)
        return new

    async def create_as_server(self, table: str, row: Row) -> Row:
        """Insert a complete row written by the server itself (commands, hooks, bulk loads)."""
        spec = TABLES[table]
        full = {name: row.get(name, _default(spec, name, self.now)) for name in spec.fields}
        full["id"] = str(row["id"])
        full["deleted"] = bool(row.get("deleted", False))
        stamp = self.server_clock()
        full["clocks"] = {f: stamp for f in spec.clock_fields}
        return await self.write_row(table, full, None)

    async def update_as_server(self, table: str, row_id: str, changes: Mapping[str, Any]) -> Row | None:
        """Server-side field writes with fresh clocks (R-MERGE-1); None if the row is gone."""
        old = await self.tx.get(table, row_id)
        if old is None:
            return None
        stamp = self.server_clock(old)
        new = dict(old)
        new["clocks"] = dict(old.get("clocks") or {})
        clock_fields = TABLES[table].clock_fields
        for name, value in changes.items():
            new[name] = value
            if name in clock_fields:
                new["clocks"][name] = stamp
        return await self.write_row(table, new, old)

    async def flush(self) -> None:
        """Add the transaction's counts and checksums to its buckets' (read in one go)."""
        if not self.deltas:
            return
        current = (await self.tx.head(sorted(self.deltas))).stats
        for bucket, (dcount, dsum) in sorted(self.deltas.items()):
            stats = current[bucket]
            stats.count += dcount
            stats.checksum = checksum.add(stats.checksum, dsum)
            await self.tx.set_bucket_stats(bucket, stats)
        self.deltas.clear()


def _default(spec: TableSpec, name: str, now: dt.datetime) -> Any:
    from sync.schema import REQUIRED, default_of

    f = spec.fields[name]
    return None if f.default is REQUIRED else default_of(f, now)


def _rows_read(mutations: Iterable[Mutation | Malformed]) -> list[tuple[str, str]]:
    """The rows applying these mutations reads first: each create's own id (R-CREATE-1) and
    its customer (R-CREATE-2), each put's row (R-PUT-5). A hint for ``WriteTx.prefetch``."""
    keys: list[tuple[str, str]] = []
    for m in mutations:
        if isinstance(m, Create | Put):
            keys.append((m.table, m.id))
        if isinstance(m, Create):
            spec = TABLES.get(m.table)
            customer = m.row.get("customer_id")
            if spec is not None and spec.customer_ref and isinstance(customer, str):
                keys.append(("customers", customer))
    return keys


def _uuid(value: Any, what: str) -> str:
    try:
        return canonical(value)
    except (ValueError, TypeError, AttributeError):
        raise Rejection("validation", f"{what}: not a UUID") from None


class SyncEngine:
    """The server side of the protocol. Stateless apart from the server's HLC and the
    pull pages it reads ahead (``sync.readahead``)."""

    def __init__(
        self,
        store: SyncStore,
        *,
        now: Callable[[], dt.datetime] | None = None,
        commands: Mapping[str, CommandHandler] | None = None,
        hooks: Mapping[str, Sequence[Hook]] | None = None,
        prepare: Sequence[Prepare] = (),
        max_clock_ahead_ms: int = MAX_CLOCK_AHEAD_MS,
        read_ahead: int = 0,
    ) -> None:
        from sync.commands import BUILTIN_COMMANDS

        self.store = store
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.clock = Clock(SERVER_NODE)
        self.commands: dict[str, CommandHandler] = {**BUILTIN_COMMANDS, **(commands or {})}
        self.hooks: dict[str, list[Hook]] = {k: list(v) for k, v in (hooks or {}).items()}
        self.prepare = list(prepare)
        self.max_clock_ahead_ms = max_clock_ahead_ms
        self.background = Background()  # work a request starts and does not wait for
        self.read_ahead = ReadAhead(read_ahead, self.background)  # the next pull page of that many devices

    async def settle(self) -> None:
        """Until the work requests started and did not wait for is done: pull pages being
        read ahead, pulls' positions being recorded (before the database closes)."""
        await self.background.settle()

    # --- common --------------------------------------------------------------------------

    def stamp_response(self, now: dt.datetime) -> tuple[str, str]:
        """R-ERR-1: every response carries server_time and a server clock."""
        return utc_iso(now), self.clock.tick(ms(now))

    def _check_skew(self, clocks: Sequence[str], now: dt.datetime) -> None:
        """R-HLC-8: refuse before touching anything; no number is consumed."""
        limit = ms(now) + self.max_clock_ahead_ms
        for text in clocks:
            try:
                pt = Hlc.parse(text).physical
            except InvalidClock:
                continue
            if pt > limit:
                raise SyncError(
                    409,
                    "clock_skew",
                    f"clock {text} is more than {self.max_clock_ahead_ms} ms ahead of the server",
                    max_ahead_ms=self.max_clock_ahead_ms,
                )

    def _observe(self, text: str, now: dt.datetime) -> None:
        try:
            self.clock.observe(text, ms(now))
        except InvalidClock:
            pass

    # --- push ------------------------------------------------------------------------------

    async def push(self, actor: Actor, req: PushRequest | RawPushRequest) -> PushResponse:
        now = self.now()
        check_protocol(req.protocol)
        try:
            Hlc.parse(req.clock)
        except InvalidClock as exc:
            raise SyncError(400, "validation", f"clock: {exc}") from None
        if len(req.mutations) > MAX_MUTATIONS:  # R-LIM-1
            raise SyncError(413, "too_large", f"at most {MAX_MUTATIONS} mutations per push", limit=MAX_MUTATIONS)
        mutations: list[Mutation | Malformed] = [
            to_mutation(m, i) if isinstance(m, dict) else m for i, m in enumerate(req.mutations)
        ]
        for prev, nxt in itertools.pairwise(mutations):  # R-PUSH-4
            if nxt.n != prev.n + 1:
                raise SyncError(400, "validation", "mutations must have consecutive numbers n")
        self._check_skew([req.clock, *(m.hlc for m in mutations)], now)
        self._observe(req.clock, now)
        results, last_n = await self._push_tx(actor, req.client_id, mutations, now)
        server_time, clock = self.stamp_response(self.now())
        return PushResponse(PROTOCOL_VERSION, server_time, clock, last_n, results)

    async def _push_tx(
        self, actor: Actor, client_id: str, mutations: Sequence[Mutation | Malformed], now: dt.datetime
    ) -> tuple[list[MutationResult], int]:
        async with self.store.write() as tx:
            client = await tx.get_client(client_id)
            _check_owner(client, str(actor.user_id))  # R-PUSH-1
            if client is None:
                client = ClientState(client_id, str(actor.user_id))
            if mutations and mutations[0].n > client.last_n + 1:  # R-PUSH-4
                raise SyncError(
                    409,
                    "sequence_gap",
                    f"expected mutation number {client.last_n + 1}",
                    expected=client.last_n + 1,
                )
            ctx = WriteContext(self, tx, actor, now, client_id)
            await self._prepare(ctx, [m for m in mutations if m.n > client.last_n])
            results: list[MutationResult] = []
            for m in mutations:
                if m.n <= client.last_n:  # R-PUSH-5
                    stored = await tx.get_result(client_id, m.n)
                    if stored is None:
                        results.append(MutationResult(m.n, "duplicate", replayed=True))
                    else:
                        r = result_decoder.decode(stored)
                        r.replayed = True
                        results.append(r)
                    continue
                result = await self._apply(ctx, m, client_id)  # R-PUSH-6
                await tx.save_result(client_id, m.n, msgspec.json.encode(result))
                client.last_n = m.n
                results.append(result)
            await ctx.flush()
            await tx.save_client(client, now)  # R-PUSH-3: same transaction as the effects
            return results, client.last_n

    async def apply_mutations(
        self, actor: Actor, mutations: Sequence[Mutation | Malformed], client_id: str | None = None
    ) -> list[MutationResult]:
        """The write path for the REST API and server jobs (no idempotency record).

        With a ``client_id`` this is a push without the HTTP envelope.
        """
        if client_id is not None:
            return (await self._push_tx(actor, client_id, mutations, self.now()))[0]
        now = self.now()
        async with self.store.write() as tx:
            ctx = WriteContext(self, tx, actor, now, None)
            await self._prepare(ctx, mutations)
            results = [await self._apply(ctx, m, None) for m in mutations]
            await ctx.flush()
            return results

    async def run(self, actor: Actor, fn: Callable[[WriteContext], Awaitable[Any]]) -> Any:
        """Run server-side writes (bulk loads, jobs) in one write transaction with a context."""
        async with self.store.write() as tx:
            ctx = WriteContext(self, tx, actor, self.now(), None)
            out = await fn(ctx)
            await ctx.flush()
            return out

    def server_hlc(self) -> str:
        return self.clock.tick(ms(self.now()))

    async def _prepare(self, ctx: WriteContext, mutations: Sequence[Mutation | Malformed]) -> None:
        self._observe_mutations(mutations, ctx.client_id)
        await ctx.tx.prefetch(_rows_read(mutations))
        if self.prepare:
            wellformed = [m for m in mutations if not isinstance(m, Malformed)]
            for prepare in self.prepare:
                await prepare(ctx, wellformed)

    async def _apply(self, ctx: WriteContext, m: Mutation | Malformed, client_id: str | None) -> MutationResult:
        if isinstance(m, Malformed):  # R-PUSH-10: rejected alone, its number consumed
            return MutationResult(m.n, "rejected", code="validation", message=m.message)
        try:
            hlc = self._mutation_clock(m, client_id)
            if isinstance(m, Create):
                return await self._create(ctx, m, hlc)
            if isinstance(m, Put):
                return await self._put(ctx, m, hlc)
            return await self._command(ctx, m)
        except Rejection as rej:
            return MutationResult(m.n, "rejected", code=rej.code, message=rej.message)

    def _mutation_clock(self, m: Mutation, client_id: str | None) -> str:
        try:
            parsed = Hlc.parse(m.hlc)
        except InvalidClock:
            raise Rejection("validation", f"hlc: not a clock value: {m.hlc!r}") from None
        if client_id is not None and parsed.node != client_id:  # R-PUSH-11
            raise Rejection("validation", "hlc: node must be the client_id")
        return m.hlc

    def _observe_mutations(self, mutations: Sequence[Mutation | Malformed], client_id: str | None) -> None:
        """R-HLC-6 for the clocks of the mutations about to be applied (those ``_mutation_clock``
        accepts): the greatest is observed, once. Every stamp the server makes after it is
        greater than each of them, as if each had been observed in turn. Clock texts order
        as their values (fixed-width lowercase hex, as R-PUT-2 compares them)."""
        accepted: list[str] = []
        for m in mutations:
            if isinstance(m, Malformed):
                continue
            try:
                accepted.append(self._mutation_clock(m, client_id))
            except Rejection:
                continue
        if accepted:
            self._observe(max(accepted), self.now())

    def _spec(self, table: str) -> TableSpec:
        spec = TABLES.get(table)
        if spec is None:
            raise Rejection("validation", f"table: unknown table {table!r}")
        return spec

    # create ------------------------------------------------------------------------------

    async def _create(self, ctx: WriteContext, m: Create, hlc: str) -> MutationResult:
        spec = self._spec(m.table)
        actor = ctx.actor
        if spec.down_only or actor.role not in spec.create_roles:
            raise Rejection("forbidden", f"{actor.role} may not create {m.table}")
        row_id = _uuid(m.id, "id")
        if len(msgspec.json.encode(m.row)) > MAX_ROW_BYTES:  # R-LIM-4
            raise Rejection("validation", "row: too large")
        if await ctx.tx.get(m.table, row_id) is not None:  # R-CREATE-1
            return MutationResult(m.n, "duplicate")
        try:
            row = validate_create(spec, row_id, m.row, ctx.now)
        except FieldError as exc:
            raise Rejection("validation", str(exc)) from None
        await self._place(ctx, spec, row, m.row)
        if m.table == "gifts":
            await self._gift_cap(ctx, row)  # R-CREATE-3
        if m.table == "notes" and row["kind"] == "complaint" and row["status"] is None:
            row["status"] = "open"  # R-CREATE-4
        row["clocks"] = {f: hlc for f in spec.clock_fields}
        await ctx.write_row(m.table, row, None)
        return MutationResult(m.n, "applied")

    async def _place(self, ctx: WriteContext, spec: TableSpec, row: Row, raw: Mapping[str, Any]) -> None:
        """Owner, region and author of a new row, and its scope check (R-SCOPE-1, R-CREATE-2)."""
        actor = ctx.actor
        me = str(actor.user_id)
        my_region = str(actor.region_id) if actor.region_id else None
        if spec.bucket == "global":
            return
        if spec.customer_ref:
            customer = await ctx.tx.get("customers", row["customer_id"])
            if customer is None or not visible(actor, "customers", customer):
                raise Rejection("not_found", "customer not found")
            row["owner_id"], row["region_id"] = customer["owner_id"], customer["region_id"]
            if "rep_id" in spec.fields:
                if spec.fields["rep_id"].server_set:
                    row["rep_id"] = me
                elif row.get("rep_id") is None:
                    row["rep_id"] = customer["owner_id"]
            if "author_id" in spec.fields:
                row["author_id"] = me
            return
        if spec.name == "stock_movements":
            row["rep_id"] = row["owner_id"] = me
            row["region_id"] = my_region
            return
        # customers (R-SCHEMA-3)
        if actor.role == "rep":
            row["owner_id"], row["region_id"] = me, my_region
            return
        owner = raw.get("owner_id")
        if owner is not None:
            owner_id = _uuid(owner, "owner_id")
            user = await ctx.tx.get("users", owner_id)
            if user is None or user["role"] != "rep" or not user["active"]:
                raise Rejection("validation", "owner_id: not an active rep")
            if actor.role == "manager" and user["region_id"] != my_region:
                raise Rejection("out_of_scope", "owner_id: the rep is outside your region")
            row["owner_id"], row["region_id"] = owner_id, user["region_id"]
            return
        if actor.role == "manager":
            row["region_id"] = my_region
            return
        region = raw.get("region_id")
        row["region_id"] = _uuid(region, "region_id") if region is not None else None

    async def _gift_cap(self, ctx: WriteContext, row: Row) -> None:
        item = await ctx.tx.get("gift_items", row["item_id"])
        if item is None:
            raise Rejection("not_found", "item_id: no such gift item")
        if row["unit_value"] is None:
            row["unit_value"] = item["unit_value"]
        tz = dt.UTC
        if row.get("region_id"):
            region = await ctx.tx.get("regions", row["region_id"])
            try:
                tz = ZoneInfo(region["time_zone"]) if region else dt.UTC  # type: ignore[assignment]
            except (ZoneInfoNotFoundError, ValueError):
                tz = dt.UTC
        given = dt.datetime.fromisoformat(row["given_at"]).astimezone(tz)
        start = dt.datetime(given.year, 1, 1, tzinfo=tz)
        end = dt.datetime(given.year + 1, 1, 1, tzinfo=tz)
        before = await ctx.tx.gift_value(row["customer_id"], row["item_id"], start, end, row["id"])
        value = as_decimal(row["unit_value"]) * row["quantity"]
        if before + value > as_decimal(item["yearly_cap"]):
            row["over_cap"] = True
            row["review_status"] = "pending"

    # put ---------------------------------------------------------------------------------

    async def _put(self, ctx: WriteContext, m: Put, hlc: str) -> MutationResult:
        spec = self._spec(m.table)
        actor = ctx.actor
        if spec.down_only:
            raise Rejection("forbidden", f"{m.table} cannot be written through sync")
        row_id = _uuid(m.id, "id")
        values: dict[str, tuple[Any, str | None]] = {}
        for name, w in m.fields.items():
            f = spec.fields.get(name)
            if f is None:
                raise Rejection("validation", f"{name}: unknown field")
            if not f.mutable:
                raise Rejection("validation", f"{name}: field is not mutable")
            if actor.role not in f.put_roles:
                raise Rejection("forbidden", f"{name}: {actor.role} may not change this field")
            try:
                value = validate_put_value(spec, name, w.value)
            except FieldError as exc:
                raise Rejection("validation", str(exc)) from None
            if w.base is not None:
                try:
                    Hlc.parse(w.base)
                except InvalidClock:
                    raise Rejection("validation", f"{name}: base is not a clock value") from None
                if not hlc > w.base:  # R-PUT-2
                    raise Rejection("validation", f"{name}: stale clock (hlc must be greater than base)")
            values[name] = (value, w.base)
        old = await ctx.tx.get(m.table, row_id)
        if old is None or not visible(actor, m.table, old):  # R-PUT-5, R-SCOPE-3
            raise Rejection("not_found", f"{m.table} {row_id} not found")
        new = dict(old)
        clocks = dict(old.get("clocks") or {})
        for name in list(values):  # R-PUT-6: sequential writes of the implied fields
            for other, implied in spec.fields[name].implies:
                values.setdefault(other, (implied, clocks.get(other)))
        changed = False
        conflict_ids: list[str] = []
        for name, (value, base) in values.items():
            cur_clock = clocks.get(name)
            current = (old.get(name), cur_clock or "")
            incoming = (value, hlc)
            winner = resolver_for(m.table, name)(current, incoming)  # R-MERGE-2
            concurrent = base != cur_clock  # R-PUT-3
            if concurrent and canonical_json(current[0]) != canonical_json(incoming[0]):
                loser = current if winner is incoming else incoming
                author: str | None
                if loser is incoming:
                    author = str(actor.user_id)
                else:
                    author = await self._author(ctx, loser[1])
                conflict_ids.append(await self._record_conflict(ctx, m.table, old, name, loser, winner, author))
            if winner is incoming and (old.get(name), cur_clock) != (value, hlc):
                new[name] = value
                clocks[name] = hlc
                changed = True
        if changed:
            new["clocks"] = clocks
            await ctx.write_row(m.table, new, old)
        if conflict_ids:
            return MutationResult(m.n, "conflict", conflicts=conflict_ids)
        return MutationResult(m.n, "applied")

    async def _author(self, ctx: WriteContext, clock: str) -> str | None:
        try:
            node = Hlc.parse(clock).node
        except InvalidClock:
            return None
        if node == SERVER_NODE:
            return None
        return await ctx.tx.user_of_client(node)

    async def _record_conflict(
        self,
        ctx: WriteContext,
        table: str,
        row: Row,
        name: str,
        loser: tuple[Any, str],
        winner: tuple[Any, str],
        author: str | None,
    ) -> str:
        """R-PUT-3: the losing register, kept where the owner and manager see it (R-PUT-4)."""
        conflict_id = str(uuid7(ms(ctx.now)))
        customer_id = row["id"] if table == "customers" else row.get("customer_id")
        await ctx.create_as_server(
            "conflicts",
            {
                "id": conflict_id,
                "tbl": table,
                "row_id": row["id"],
                "field": name,
                "losing_value": loser[0],
                "losing_clock": loser[1],
                "losing_author": author,
                "winning_value": winner[0],
                "winning_clock": winner[1],
                "customer_id": customer_id,
                "owner_id": row.get("owner_id"),
                "region_id": row.get("region_id"),
                "status": "open",
                "created_at": utc_iso(ctx.now),
            },
        )
        return conflict_id

    # command -------------------------------------------------------------------------------

    async def _command(self, ctx: WriteContext, m: Command) -> MutationResult:
        handler = self.commands.get(m.name)
        if handler is None:  # R-CMD-3
            raise Rejection("unknown_command", f"unknown command {m.name!r}")
        conflicts = await handler(ctx, m.args)
        return MutationResult(m.n, "applied", conflicts=list(conflicts or []))

    # --- pull ------------------------------------------------------------------------------

    async def pull(self, actor: Actor, req: PullRequest) -> PullResponse:
        now = self.now()
        check_protocol(req.protocol)
        try:
            Hlc.parse(req.clock)
        except InvalidClock as exc:
            raise SyncError(400, "validation", f"clock: {exc}") from None
        self._check_skew([req.clock], now)
        self._observe(req.clock, now)
        limit = max(1, min(req.limit, MAX_PAGE))  # R-PULL-1, R-LIM-2
        today = dt.date.fromisoformat(req.today) if req.today else now.astimezone(dt.UTC).date()
        user = str(actor.user_id)
        page = await self._made_ahead((user, req.client_id, req.cursor or "", limit))
        if page is None:
            page = await self._page(actor, req.client_id, req.cursor, limit, today)
        resp = page.response
        if resp.more and self.read_ahead.capacity:  # the device will ask for the next page: make it now
            self.read_ahead.start(
                (user, req.client_id, resp.cursor, limit),
                self._page(actor, req.client_id, resp.cursor, limit, today),
            )
        client = page.client
        if (  # R-PULL-6; an unchanged position is refreshed at most hourly (a write costs a commit)
            client is None
            or client.pulled_seq != page.position
            or client.last_seen is None
            or now - client.last_seen > dt.timedelta(hours=1)
        ):
            # Not waited for: the answer does not depend on it, and a position recorded late
            # (or lost with the process) only makes compaction keep more (R-DEL-3).
            self.background.start(self.store.record_pull(req.client_id, user, page.position, now))
        server_time, clock = self.stamp_response(self.now())
        return msgspec.structs.replace(resp, server_time=server_time, clock=clock)

    async def _made_ahead(self, key: Key) -> Page | None:
        """The page ``sync.readahead`` made for this request, if the database has not
        changed since (same high-water mark and epoch); with the client's current record."""
        page = await self.read_ahead.take(key)
        if page is None:
            return None
        async with self.store.read() as rtx:
            head = await rtx.head(page.buckets, key[1])
        if (head.high, head.epoch) != (page.high, page.epoch):
            self.read_ahead.stale += 1
            return None
        _check_owner(head.client, key[0])
        self.read_ahead.hits += 1
        return replace(page, client=head.client)

    async def _page(self, actor: Actor, client_id: str, cursor: str | None, limit: int, today: dt.date) -> Page:
        """One pull page from one snapshot (R-CUR-2), unstamped (``pull`` stamps it)."""
        async with self.store.read() as rtx:
            buckets = await self._device_buckets(rtx, actor)
            head = await rtx.head(buckets, client_id)  # R-CUR-2: first the high-water mark
            client = head.client
            _check_owner(client, str(actor.user_id))
            high = head.high
            state = self._cursor_state(cursor, head, buckets)
            position = min((state.p.get(b, 0) for b in buckets), default=0)
            changes: list[Change] = []

            def page(more: bool, checksums: dict[str, BucketSum] | None = None) -> Page:
                resp = PullResponse(PROTOCOL_VERSION, "", "", encode_cursor(state), more, buckets, changes, checksums)
                return Page(resp, buckets, high, head.epoch, position, client)

            if cursor is None and actor.role == "rep" and not state.f:  # R-PULL-4
                state.f = True
                bucket = rep_bucket(actor.user_id)
                for table, row in (await rtx.today_plan(str(actor.user_id), today))[:limit]:
                    changes.append(self._change(bucket, StoredChange(row["seq"], table, row["id"], row)))
                if changes:
                    return page(True)
            remaining = limit
            for b in buckets:
                pos = state.p.get(b, 0)
                if pos >= high:
                    state.p[b] = pos
                    continue
                if remaining == 0:
                    state.p[b] = pos
                    continue
                found = await rtx.changes(b, pos, high, remaining)
                changes.extend(self._change(b, c) for c in found)
                remaining -= len(found)
                state.p[b] = found[-1].seq if remaining == 0 and found else high
            if any(state.p[b] < high for b in buckets):
                return page(True)
            return page(False, {b: self._sum(head.stats[b]) for b in buckets})  # R-PULL-5

    @staticmethod
    def _cursor_state(cursor: str | None, head: Head, buckets: list[str]) -> CursorState:
        """R-CUR-4 and R-BUCKET-3: every reason a cursor cannot be continued."""
        if cursor is None:
            return CursorState(e=head.epoch, p={})
        try:
            state = decode_cursor(cursor)
        except BadCursor as exc:
            raise _resync("bad_cursor", str(exc)) from None
        if state.e != head.epoch:
            raise _resync("epoch", "the server database was replaced or restored")
        lost = sorted(set(state.p) - set(buckets))
        if lost:
            raise _resync("buckets", f"buckets no longer yours: {', '.join(lost)}")
        for b, pos in state.p.items():
            if pos > head.high:
                raise _resync("ahead", "cursor is ahead of the server")
            if 0 < pos < head.stats[b].compacted_through:
                raise _resync("compacted", f"tombstones of {b} were compacted")
        return state

    @staticmethod
    def _change(bucket: str, c: StoredChange) -> Change:
        if c.row is None:
            return Change(bucket, c.table, c.row_id, c.seq, "remove")
        if isinstance(c.row, WireRow):  # already the row as pulled, rendered by the store
            return Change(bucket, c.table, c.row_id, c.seq, "delete" if c.row.deleted else "put", msgspec.Raw(c.row.json))
        op: Op = "delete" if c.row.get("deleted") else "put"
        return Change(bucket, c.table, c.row_id, c.seq, op, public_row(TABLES[c.table], c.row))

    @staticmethod
    async def _device_buckets(rtx: ReadTx, actor: Actor) -> list[str]:
        """R-BUCKET-2; only an admin's buckets depend on the regions, so only then are they read."""
        return device_buckets(actor, await rtx.region_ids() if actor.role == "admin" else ())

    @staticmethod
    def _sum(stats: BucketStats) -> BucketSum:
        return BucketSum(stats.count, checksum.to_hex(stats.checksum))

    # --- verify ------------------------------------------------------------------------------

    async def verify(self, actor: Actor) -> VerifyResponse:
        """R-SUM-4."""
        async with self.store.read() as rtx:
            buckets = await self._device_buckets(rtx, actor)
            head = await rtx.head(buckets)
        sums = {b: self._sum(head.stats[b]) for b in buckets}
        server_time, clock = self.stamp_response(self.now())
        return VerifyResponse(PROTOCOL_VERSION, server_time, clock, head.high, sums)

    # --- compaction -------------------------------------------------------------------------

    async def compact(self, active_days: int = 30) -> int:
        """R-DEL-3: purge what every active device has already passed (the positions of
        this process's pulls so far recorded first)."""
        await self.background.finish_started()
        since = self.now() - dt.timedelta(days=active_days)
        position = await self.store.min_active_position(since)
        if position is None:
            return 0
        return await self.store.compact(position)


def _check_owner(client: ClientState | None, user_id: str) -> None:
    """A client id belongs to the user who first used it (R-PUSH-1)."""
    if client is not None and client.user_id != user_id:
        raise SyncError(409, "client_mismatch", "this client id belongs to another user")


def _resync(reason: str, message: str) -> SyncError:
    return SyncError(409, "resync_required", message, reason=reason)


__all__ = ["GLOBAL", "SyncEngine", "WriteContext", "check_protocol", "parse_request"]

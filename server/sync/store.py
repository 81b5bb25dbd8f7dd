"""``PiccoloSyncStore``: the ``sync.store.SyncStore`` protocol on the Piccolo tables.

Raw SQL through Piccolo (``Table.raw`` with ``{}`` placeholders) inside one transaction
per call of ``read()``/``write()``. Rows cross the boundary in wire form (R-SCHEMA-1);
this module converts them to and from database values per ``sync.schema``.

Ordering of commits (R-CUR-1): ``write()`` first increments the ``sync_counter`` row.
On PostgreSQL that row lock is held until commit, on SQLite the transaction is
``BEGIN IMMEDIATE``; either way writers are serialized, so seq order is commit order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, cast

import msgspec
from piccolo.engine.postgres import PostgresEngine

from server import db
from server.tables import SyncCounter
from sync import checksum
from sync.buckets import GLOBAL
from sync.schema import CENTS, CUSTOMER_CHILDREN, CUSTOMER_DATA, GLOBAL_TABLES, TABLES, Field
from sync.store import BucketStats, ClientState, Row, StoredChange

EPOCH_KEY = "sync_epoch"  # shared with server/backup.py, which changes it on restore


async def _q(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await SyncCounter.raw(sql, *args)  # type: ignore[no-any-return]


# --- value conversion ---------------------------------------------------------------------


def _to_db(f: Field, value: Any) -> Any:
    if f.kind == "json":  # Text columns holding JSON; JSON null is the text "null"
        return msgspec.json.encode(value).decode()
    if value is None:
        return None
    match f.kind:
        case "datetime":
            return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
        case "date":
            return dt.date.fromisoformat(value)
        case "decimal":
            return Decimal(value)
        case "uuid":
            return uuid.UUID(str(value))
        case "json":
            return msgspec.json.encode(value).decode()
        case _:
            return value


def _from_db(f: Field, value: Any) -> Any:
    if value is None:
        return None
    match f.kind:
        case "uuid":
            return str(value)
        case "datetime":
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return msgspec.to_builtins(value.astimezone(dt.UTC))
        case "date":
            return value.isoformat() if isinstance(value, dt.date) else str(value)
        case "decimal":
            return str(Decimal(str(value)).quantize(CENTS))
        case "json":
            return msgspec.json.decode(value) if isinstance(value, str | bytes) else value
        case "float":
            return float(value)
        case "int":
            return int(value)
        case "bool":
            return bool(value)
        case _:
            return value


def _columns(table: str) -> list[str]:
    return list(TABLES[table].fields)


def _select(table: str) -> str:
    return ", ".join(_columns(table))


def _row(table: str, raw: Mapping[str, Any]) -> Row:
    fields = TABLES[table].fields
    return {name: _from_db(fields[name], raw.get(name)) for name in fields}


def _placeholders(n: int) -> str:
    return ", ".join("{}" for _ in range(n))


# --- transactions ----------------------------------------------------------------------------


class _Reader:
    """Queries every transaction may make."""

    async def high_water(self) -> int:
        rows = await _q("SELECT value FROM sync_counter WHERE name = 'changes'")
        return int(rows[0]["value"]) if rows else 0

    async def epoch(self) -> str:
        rows = await _q("SELECT value FROM server_settings WHERE key = {}", EPOCH_KEY)
        return str(rows[0]["value"]) if rows else "initial"

    async def get(self, table: str, row_id: str) -> Row | None:
        rows = await _q(f"SELECT {_select(table)} FROM {table} WHERE id = {{}}", uuid.UUID(row_id))
        return _row(table, rows[0]) if rows else None

    async def get_client(self, client_id: str) -> ClientState | None:
        rows = await _q(
            "SELECT client_id, user_id, last_n, pulled_seq, last_seen FROM sync_clients WHERE client_id = {}",
            client_id,
        )
        if not rows:
            return None
        r = rows[0]
        seen = r["last_seen"]
        if isinstance(seen, str):
            seen = dt.datetime.fromisoformat(seen)
        return ClientState(r["client_id"], str(r["user_id"]), int(r["last_n"]), int(r["pulled_seq"]), seen)

    async def bucket_stats(self, bucket: str) -> BucketStats:
        rows = await _q(
            "SELECT count, checksum, compacted_through FROM sync_buckets WHERE bucket = {}", bucket
        )
        if not rows:
            return BucketStats()
        r = rows[0]
        return BucketStats(int(r["count"]), checksum.from_signed(int(r["checksum"])), int(r["compacted_through"]))

    async def changes(self, bucket: str, after: int, upto: int, limit: int) -> list[StoredChange]:
        """R-PULL-7: one statement finds the next ``limit`` changes of the bucket (an indexed
        range scan per table, each limited, merged by seq); then the rows are fetched by id
        from the tables that have any."""
        kind, _, key = bucket.partition(":")
        limit = int(limit)
        tables: tuple[str, ...] = ()
        where, args = "", cast(tuple[Any, ...], ())
        if bucket == GLOBAL:
            tables = GLOBAL_TABLES
        elif kind == "rep":
            tables, where, args = CUSTOMER_DATA, "owner_id = {} AND ", (uuid.UUID(key),)
        elif kind == "region":
            tables, where, args = (*CUSTOMER_DATA, "users"), "region_id = {} AND ", (uuid.UUID(key),)
        branches: list[str] = []
        params: list[Any] = []
        for i, table in enumerate(tables):
            branches.append(
                f"SELECT * FROM (SELECT '{table}' AS tbl, id, seq FROM {table} WHERE {where}"
                f"seq > {{}} AND seq <= {{}} ORDER BY seq LIMIT {limit}) AS b{i}"
            )
            params += [*args, after, upto]
        branches.append(
            "SELECT * FROM (SELECT tbl, row_id AS id, seq FROM sync_removals WHERE bucket = {} "
            f"AND seq > {{}} AND seq <= {{}} ORDER BY seq LIMIT {limit}) AS br"
        )
        params += [bucket, after, upto]
        hits = await _q(
            f"SELECT tbl, id, seq FROM ({' UNION ALL '.join(branches)}) AS u ORDER BY seq LIMIT {limit}",
            *params,
        )
        if not hits:
            return []
        # The hits are the bucket's first changes after ``after``, so each table's rows of
        # the page are exactly its rows with after < seq <= (last hit): one range scan each.
        last = int(hits[-1]["seq"])
        fetched: dict[tuple[str, str], Row] = {}
        for table in sorted({h["tbl"] for h in hits} & set(tables)):
            rows = await _q(
                f"SELECT {_select(table)} FROM {table} WHERE {where}seq > {{}} AND seq <= {{}}",
                *args,
                after,
                last,
            )
            for raw in rows:
                r = _row(table, raw)
                fetched[(table, r["id"])] = r
        out: list[StoredChange] = []
        for h in hits:
            table, row_id, seq = h["tbl"], str(h["id"]), int(h["seq"])
            row = fetched.get((table, row_id))
            out.append(StoredChange(seq, table, row_id, row if row is not None and row["seq"] == seq else None))
        return out

    async def region_ids(self) -> list[str]:
        rows = await _q("SELECT id FROM regions WHERE deleted = {}", False)
        return sorted(str(r["id"]) for r in rows)

    async def today_plan(self, rep_id: str, today: dt.date) -> list[tuple[str, Row]]:
        plans = [
            _row("planned_revisits", r)
            for r in await _q(
                f"SELECT {_select('planned_revisits')} FROM planned_revisits WHERE owner_id = {{}} "
                "AND status = 'planned' AND deleted = {} AND due_date <= {} ORDER BY due_date, id LIMIT 500",
                uuid.UUID(rep_id),
                False,
                today,
            )
        ]
        out: list[tuple[str, Row]] = []
        seen: set[str] = set()
        for plan in plans:
            cid = plan["customer_id"]
            if cid not in seen:
                seen.add(cid)
                customer = await self.get("customers", cid)
                if customer is not None and customer["owner_id"] == rep_id:
                    out.append(("customers", customer))
            out.append(("planned_revisits", plan))
        return out


class _Writer(_Reader):
    """A write transaction holding the counter row (R-CUR-1)."""

    def __init__(self, first_seq: int) -> None:
        self._next = first_seq
        self.last_seq = first_seq - 1

    async def next_seq(self) -> int:
        seq = self._next
        self._next += 1
        self.last_seq = seq
        return seq

    async def save(self, table: str, row: Row) -> None:
        fields = TABLES[table].fields
        cols = _columns(table)
        values = [_to_db(fields[c], row.get(c)) for c in cols]
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
        await _q(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_placeholders(len(cols))}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            *values,
        )

    async def customer_rows(self, customer_id: str) -> list[tuple[str, Row]]:
        out: list[tuple[str, Row]] = []
        for table in CUSTOMER_CHILDREN:
            rows = await _q(
                f"SELECT {_select(table)} FROM {table} WHERE customer_id = {{}}", uuid.UUID(customer_id)
            )
            out.extend((table, _row(table, r)) for r in rows)
        return out

    async def add_removal(self, bucket: str, seq: int, table: str, row_id: str) -> None:
        await _q(
            "INSERT INTO sync_removals (bucket, seq, tbl, row_id) VALUES ({}, {}, {}, {})",
            bucket,
            seq,
            table,
            uuid.UUID(row_id),
        )

    async def set_bucket_stats(self, bucket: str, stats: BucketStats) -> None:
        await _q(
            "INSERT INTO sync_buckets (bucket, count, checksum, compacted_through) VALUES ({}, {}, {}, {}) "
            "ON CONFLICT (bucket) DO UPDATE SET count = excluded.count, checksum = excluded.checksum, "
            "compacted_through = excluded.compacted_through",
            bucket,
            stats.count,
            checksum.to_signed(stats.checksum),
            stats.compacted_through,
        )

    async def save_client(self, state: ClientState, now: dt.datetime) -> None:
        await _save_client(state, now)

    async def get_result(self, client_id: str, n: int) -> bytes | None:
        rows = await _q("SELECT result FROM sync_results WHERE key = {}", f"{client_id}:{n}")
        return rows[0]["result"].encode() if rows else None

    async def save_result(self, client_id: str, n: int, result: bytes) -> None:
        await _q(
            "INSERT INTO sync_results (key, result, created_at) VALUES ({}, {}, {}) "
            "ON CONFLICT (key) DO UPDATE SET result = excluded.result",
            f"{client_id}:{n}",
            result.decode(),
            dt.datetime.now(dt.UTC),
        )

    async def user_of_client(self, client_id: str) -> str | None:
        rows = await _q("SELECT user_id FROM sync_clients WHERE client_id = {}", client_id)
        return str(rows[0]["user_id"]) if rows else None

    async def gift_value(
        self, customer_id: str, item_id: str, start: dt.datetime, end: dt.datetime, exclude_id: str
    ) -> Decimal:
        rows = await _q(
            "SELECT quantity, unit_value FROM gifts WHERE customer_id = {} AND item_id = {} "
            "AND deleted = {} AND id <> {} AND given_at >= {} AND given_at < {}",
            uuid.UUID(customer_id),
            uuid.UUID(item_id),
            False,
            uuid.UUID(exclude_id),
            start.astimezone(dt.UTC),
            end.astimezone(dt.UTC),
        )
        return sum((Decimal(str(r["unit_value"] or 0)) * int(r["quantity"]) for r in rows), Decimal(0))

    async def stock_level(self, rep_id: str, item_id: str) -> int:
        rows = await _q(
            "SELECT COALESCE(SUM(delta), 0) AS total FROM stock_movements WHERE rep_id = {} "
            "AND item_id = {} AND deleted = {}",
            uuid.UUID(rep_id),
            uuid.UUID(item_id),
            False,
        )
        return int(rows[0]["total"] or 0)


async def _save_client(state: ClientState, now: dt.datetime) -> None:
    await _q(
        "INSERT INTO sync_clients (client_id, user_id, last_n, pulled_seq, created_at, last_seen) "
        "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (client_id) DO UPDATE SET "
        "last_n = excluded.last_n, pulled_seq = excluded.pulled_seq, last_seen = excluded.last_seen",
        state.client_id,
        uuid.UUID(state.user_id),
        state.last_n,
        state.pulled_seq,
        now,
        now,
    )


class PiccoloSyncStore:
    """The server's store; stateless, so every process can build its own."""

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_Reader]:
        """One snapshot for the whole pull (R-CUR-2): REPEATABLE READ on PostgreSQL; on
        SQLite (WAL) a read transaction sees one snapshot from its first read."""
        engine = db.engine()
        async with engine.transaction():
            if isinstance(engine, PostgresEngine):
                await _q("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield _Reader()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[_Writer]:
        async with db.write_transaction():
            rows = await _q(
                "UPDATE sync_counter SET value = value + 1 WHERE name = 'changes' RETURNING value"
            )
            first = int(rows[0]["value"])
            writer = _Writer(first)
            yield writer
            if writer.last_seq > first:  # hand out the whole block before commit
                await _q("UPDATE sync_counter SET value = {} WHERE name = 'changes'", writer.last_seq)

    async def record_pull(self, client_id: str, user_id: str, pulled_seq: int, now: dt.datetime) -> None:
        async with db.write_transaction():
            rows = await _q("SELECT last_n FROM sync_clients WHERE client_id = {}", client_id)
            last_n = int(rows[0]["last_n"]) if rows else 0
            await _save_client(ClientState(client_id, user_id, last_n, pulled_seq), now)

    async def min_active_position(self, since: dt.datetime) -> int | None:
        rows = await _q(
            "SELECT MIN(pulled_seq) AS low FROM sync_clients WHERE last_seen >= {} AND pulled_seq > 0",
            since,
        )
        low = rows[0]["low"] if rows else None
        return int(low) if low is not None else None

    async def compact(self, through: int) -> int:
        purged = 0
        async with self.write():
            for table in CUSTOMER_DATA:
                rows = await _q(
                    f"DELETE FROM {table} WHERE deleted = {{}} AND seq <= {{}} RETURNING id", True, through
                )
                purged += len(rows)
            rows = await _q("DELETE FROM sync_removals WHERE seq <= {} RETURNING id", through)
            purged += len(rows)
            await _q(
                "UPDATE sync_buckets SET compacted_through = {} WHERE compacted_through < {}", through, through
            )
        return purged

    async def ensure_epoch(self) -> str:
        """Create the database epoch on first start (R-CUR-4); a restore replaces it."""
        async with db.write_transaction():
            await _q(
                "INSERT INTO server_settings (key, value) VALUES ({}, {}) ON CONFLICT (key) DO NOTHING",
                EPOCH_KEY,
                uuid.uuid4().hex,
            )
            rows = await _q("SELECT value FROM server_settings WHERE key = {}", EPOCH_KEY)
        return str(rows[0]["value"])


def chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

"""``PiccoloSyncStore``: the ``sync.store.SyncStore`` protocol on the Piccolo tables.

Raw SQL with ``{}`` placeholders (as ``Table.raw`` takes it) on the connection of one
Piccolo transaction per call of ``read()``/``write()`` (``_q``). Rows cross the boundary
in wire form (R-SCHEMA-1); this module converts them to and from database values per
``sync.schema`` with functions compiled once per table. Read transactions (pull,
verify) are ``server.db.read_transaction``: on SQLite, connections kept open between them.

Ordering of commits (R-CUR-1): ``write()`` first increments the ``sync_counter`` row.
On PostgreSQL that row lock is held until commit, on SQLite the transaction is
``BEGIN IMMEDIATE``; either way writers are serialized, so seq order is commit order.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import uuid
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, cast

import msgspec
from piccolo.engine.postgres import PostgresEngine

from server import db
from server.sync import wire
from server.sync.history import History
from server.tables import SyncCounter
from sync import checksum
from sync.buckets import GLOBAL
from sync.ids import canonical
from sync.schema import CENTS, CUSTOMER_CHILDREN, CUSTOMER_DATA, GLOBAL_TABLES, TABLES
from sync.store import BucketStats, ClientState, Head, Row, StoredChange, WireRow

EPOCH_KEY = "sync_epoch"  # shared with server/backup.py, which changes it on restore


async def _q(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL with ``{}`` placeholders, as ``Table.raw`` runs it, in the current transaction;
    rows as dicts."""
    return await db.run_sql(sql, args, as_dicts=True)  # type: ignore[return-value]


async def _defer(sql: str, *args: Any, grouped: bool = False) -> None:
    """A write whose answer is not needed: it goes with the transaction's next statement
    (``db.run_sql(defer=True)``); ``grouped``: a row's upsert (or a removal's insert),
    sent in one batch with the others of its table."""
    await db.run_sql(sql, args, defer=True, grouped=grouped)


async def _fetch(sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
    """``_q`` for the rows of ``_row``: each a sequence in the SELECT's column order
    (SQLite tuples, PostgreSQL records), no dict per row."""
    return await db.run_sql(sql, args, as_dicts=False)


# --- value conversion ---------------------------------------------------------------------
#
# Compiled once per table: a pull converts every field of every row it sends, and a push
# every field of every row it writes, so the dispatch on the field's kind happens here,
# not per value. Each entry names a column and the function for its non-null values
# (None: the value passes as it is).


def _json_in(value: Any) -> str:
    return msgspec.json.encode(value).decode()  # Text columns holding JSON; JSON null is "null"


def _datetime_in(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _sqlite_datetime_in(value: Any) -> Any:
    """SQLite: the text Piccolo's adapter makes of the datetime (``str()`` of it in UTC), cut
    from its canonical wire form ("...THH:MM:SS[.ffffff]Z", as ``_datetime_out`` gives it)
    without making a datetime only for the adapter to format it again; other text takes
    the general path."""
    n = len(value)
    if (n == 20 or (n == 27 and value[19] == "." and value[20:26] != "000000")) and value[10] == "T" and value[-1] == "Z":
        return f"{value[:10]} {value[11:-1]}+00:00"
    return _datetime_in(value)


def _sqlite_date_in(value: Any) -> Any:
    """SQLite: a canonical date ("YYYY-MM-DD") is the text Piccolo's adapter would store."""
    return value if len(value) == 10 and value[4] == value[7] == "-" else dt.date.fromisoformat(value)


def _uuid_out(value: Any) -> str:
    if isinstance(value, str):
        # SQLite holds what Python's ``str(uuid.UUID)`` wrote: 36 characters, lowercase hex
        # and hyphens. That passes as it is (a regular expression per value was a tenth of a
        # pull's server time); other text (upper case, no hyphens, all digits) is parsed.
        return value if len(value) == 36 and value.islower() else canonical(value)
    return str(value)


def _datetime_out(value: Any) -> Any:
    if isinstance(value, str):
        # SQLite holds what Piccolo wrote, ``str()`` of a UTC datetime: "YYYY-MM-DD HH:MM:SS"
        # with ".ffffff" when the microseconds are not 0, then "+00:00". Its wire form (what
        # msgspec makes of that datetime) is the same text with "T" and "Z", so it is cut,
        # not parsed and formatted again; any other text takes the general path.
        n = len(value)
        if (n == 25 or (n == 32 and value[19] == ".")) and value[10] == " " and value.endswith("+00:00"):
            return f"{value[:10]}T{value[11:-6]}Z"
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return msgspec.to_builtins(value.astimezone(dt.UTC))


def _date_out(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _decimal_out(value: Any) -> str:
    return str(Decimal(str(value)).quantize(CENTS))


def _json_out(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


# Ids go to the database as their canonical text (``sync.ids.canonical``, parsed once per
# value): SQLite stores that text, as Piccolo's adapter would have made of a ``uuid.UUID``,
# and asyncpg parses it for a ``uuid`` parameter; making ``UUID`` objects only for the
# adapter to turn them back into text was a tenth of a push's server time.
_IN: dict[str, Any] = {"datetime": _datetime_in, "date": dt.date.fromisoformat, "decimal": Decimal, "uuid": canonical}
_IN_SQLITE = {**_IN, "datetime": _sqlite_datetime_in, "date": _sqlite_date_in}
_OUT: dict[str, Any] = {
    "uuid": _uuid_out,
    "datetime": _datetime_out,
    "date": _date_out,
    "decimal": _decimal_out,
    "json": _json_out,
    "float": float,
    "int": int,
    "bool": bool,
}
_DECODERS: dict[str, tuple[tuple[str, Any], ...]] = {
    name: tuple((f.name, _OUT.get(f.kind)) for f in spec.fields.values()) for name, spec in TABLES.items()
}


def _generated(arg: str, parts: Iterable[tuple[str, str, Any]], brackets: str, **env: Any) -> Any:
    """One generated function of ``arg`` returning a display (``brackets``: ``"{}"`` a dict,
    ``"[]"`` a list) with an item per part ``(key, value, conv)``: ``key`` (a dict's
    ``'name': ``, or nothing) then the expression ``value``, passed through ``conv`` unless it
    is None (``conv`` None: as it is). No loop and no lookup by name per row."""
    items = []
    for i, (key, value, conv) in enumerate(parts):
        if conv is None:
            items.append(f"{key}{value}")
        else:
            env[f"c{i}"] = conv
            items.append(f"{key}None if (v{i} := {value}) is None else c{i}(v{i})")
    exec(f"def generated({arg}):\n    return {brackets[0]}{', '.join(items)}{brackets[1]}\n", env)
    return env["generated"]


# ``_row`` per table: ``r`` in the order of ``_select``, each column converted in place
_ROW = {
    name: _generated("r", ((f"{n!r}: ", f"r[{i}]", conv) for i, (n, conv) in enumerate(_DECODERS[name])), "{}")
    for name in TABLES
}


def _row(table: str, raw: Sequence[Any]) -> Row:
    """A database row (a sequence in the order of ``_select``) in wire form (R-SCHEMA-1)."""
    return _ROW[table](raw)  # type: ignore[no-any-return]


# ``_db_values`` per database and table: ``g`` the row's ``get``; JSON columns encode None as "null" too
_DB_VALUES = {
    postgres: {
        name: _generated(
            "g",
            (("", f"j(g({f.name!r}))", None) if f.kind == "json"
             else ("", f"g({f.name!r})", (_IN if postgres else _IN_SQLITE).get(f.kind))
             for f in spec.fields.values()),
            "[]",
            j=_json_in,
        )
        for name, spec in TABLES.items()
    }
    for postgres in (False, True)
}


def _db_values(table: str, row: Mapping[str, Any]) -> list[Any]:
    """The row's values in column order as the database takes them (the inverse of ``_row``)."""
    return _DB_VALUES[isinstance(SyncCounter._meta.db, PostgresEngine)][table](row.get)  # type: ignore[no-any-return]


_encode_row = msgspec.json.Encoder().encode  # a remembered row (``_Writer``): JSON, so each read is a copy
_decode_row = msgspec.json.Decoder().decode


# --- SQL text ----------------------------------------------------------------------------------


def _columns(table: str) -> list[str]:
    return list(TABLES[table].fields)


def _placeholders(n: int) -> str:
    return ", ".join("{}" for _ in range(n))


def _upsert_sql(table: str) -> str:
    cols = [*_columns(table), *wire.COLUMNS]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_placeholders(len(cols))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


_UPSERT: dict[str, str] = {name: _upsert_sql(name) for name in TABLES}
_SELECT: dict[str, str] = {name: ", ".join(spec.fields) for name, spec in TABLES.items()}
# SQLite: ``+col`` is the column's value as stored, without its declared type, so the
# driver's per-value converters (Piccolo registers one per declared type: text to
# ``uuid.UUID``, ``datetime``, ``Decimal``, ...) do not run in aiosqlite's thread only for
# ``_row`` to turn the values back into wire text: ``_row``'s functions take the stored
# values as they are (UUID and date text, timestamps as text, 0/1, REAL for decimals).
_SELECT_SQLITE: dict[str, str] = {
    name: ", ".join(f"+{c} AS {c}" for c in spec.fields) for name, spec in TABLES.items()
}


def _select(table: str) -> str:
    """The table's columns for a SELECT whose rows go through ``_row``."""
    return (_SELECT if isinstance(SyncCounter._meta.db, PostgresEngine) else _SELECT_SQLITE)[table]


# --- transactions ----------------------------------------------------------------------------


def _client_state(r: Mapping[str, Any]) -> ClientState:
    seen = r["last_seen"]
    if isinstance(seen, str):
        seen = dt.datetime.fromisoformat(seen)
    return ClientState(r["client_id"], str(r["user_id"]), int(r["last_n"]), int(r["pulled_seq"]), seen)


def _bucket_stats_of(r: Mapping[str, Any]) -> BucketStats:
    return BucketStats(int(r["count"]), checksum.from_signed(int(r["checksum"])), int(r["compacted_through"]))


_CLIENT_COLUMNS = ("client_id", "user_id", "last_n", "pulled_seq", "last_seen")
_STATS_COLUMNS = ("count", "checksum", "compacted_through")
_GET_CLIENT = f"SELECT {', '.join(_CLIENT_COLUMNS)} FROM sync_clients WHERE client_id = {{}}"


@functools.cache  # by the number of buckets: built once, not on every pull
def _head_sql(buckets: int) -> str:
    """One statement for ``head``: a row per bucket that has stats (or one row, when none
    has), each with the counter, the epoch and the client's record (NULLs: no such client)."""
    on = f"s.bucket IN ({_placeholders(buckets)})" if buckets else "1 = 0"
    return (
        "SELECT (SELECT value FROM sync_counter WHERE name = 'changes') AS high, "
        "(SELECT value FROM server_settings WHERE key = {}) AS epoch, "
        f"{', '.join(f'c.{c}' for c in _CLIENT_COLUMNS)}, "
        f"s.bucket, {', '.join(f's.{c}' for c in _STATS_COLUMNS)} "
        "FROM (SELECT 1 AS one) AS o "
        "LEFT JOIN sync_clients AS c ON c.client_id = {} "
        f"LEFT JOIN sync_buckets AS s ON {on}"
    )


def _seq_range(column: str, value: Any, after: int, upto: int) -> tuple[str, str, list[Any]]:
    """The ``WHERE`` and ``ORDER BY`` of one bucket's changes in ``(after, upto]``, with
    their arguments. With a bucket column the range is a row comparison,
    ``(column, seq) > (value, after) AND (column, seq) <= (value, upto)``: the same rows as
    ``column = value AND seq > after AND seq <= upto``, in a form that both databases read
    as one range of the ``(column, seq)`` index whatever the arguments. PostgreSQL's
    generic plan of a prepared statement (its sixth run on) otherwise chose the ``seq``
    index of the whole table and filtered it by owner, so a bucket's last page read every
    other bucket's changes (70–110 ms on 144,000 visits, against 0.14 ms)."""
    if not column:
        return "seq > {} AND seq <= {}", "seq", [after, upto]
    return (
        f"({column}, seq) > ({{}}, {{}}) AND ({column}, seq) <= ({{}}, {{}})",
        f"{column}, seq",
        [value, after, value, upto],
    )


def _changes_sql(bucket: str, after: int, upto: int, limit: int) -> tuple[str, list[Any]]:
    """``_Reader.changes``' statement and its arguments."""
    kind, _, key = bucket.partition(":")
    limit = int(limit)
    tables: tuple[str, ...] = ()
    column, key_value = "", cast(Any, None)  # the bucket's column and value, if any
    if bucket == GLOBAL:
        tables = GLOBAL_TABLES
    elif kind == "rep":
        tables, column, key_value = CUSTOMER_DATA, "owner_id", canonical(key)
    elif kind == "region":
        tables, column, key_value = (*CUSTOMER_DATA, "users"), "region_id", canonical(key)
    branches: list[str] = []
    params: list[Any] = []
    # SQLite: ``+col``, the values as stored (UUID text, integers), as in ``_select``
    postgres = isinstance(SyncCounter._meta.db, PostgresEngine)
    plus = "" if postgres else "+"
    where, order, args = _seq_range(column, key_value, after, upto)  # the same for every table
    for i, table in enumerate(tables):
        branches.append(
            f"SELECT * FROM (SELECT '{table}' AS tbl, {plus}id AS id, {plus}seq AS v, 1 AS live, "
            f"{plus}deleted AS gone, {wire.KEPT} AS json FROM {table} WHERE {where} "
            f"ORDER BY {order} LIMIT {limit}) AS b{i}"
        )
        params += args
    where, order, args = _seq_range("bucket", bucket, after, upto)
    branches.append(
        f"SELECT * FROM (SELECT tbl, {plus}row_id AS id, {plus}seq AS v, 0 AS live, "
        f"CAST(NULL AS BOOLEAN) AS gone, CAST(NULL AS {'BYTEA' if postgres else 'BLOB'}) AS json FROM sync_removals "
        f"WHERE {where} ORDER BY {order} LIMIT {limit}) AS br"
    )
    params += args
    return (
        f"SELECT tbl, id, v, live, gone, json FROM ({' UNION ALL '.join(branches)}) AS u ORDER BY v LIMIT {limit}",
        params,
    )


class _Reader:
    """Queries every transaction may make."""

    async def head(self, buckets: Sequence[str], client_id: str | None = None) -> Head:
        """One round trip instead of three plus one per bucket (a small pull's statements
        were most of its server time, each a hand-off to the database)."""
        rows = await _q(_head_sql(len(buckets)), EPOCH_KEY, client_id, *buckets)
        first = rows[0]
        stats = {b: BucketStats() for b in buckets}
        for r in rows:
            if r["bucket"] is not None:
                stats[r["bucket"]] = _bucket_stats_of(r)
        high = first["high"]
        return Head(
            int(high) if high is not None else 0,
            str(first["epoch"]) if first["epoch"] is not None else "initial",
            _client_state(first) if first["client_id"] is not None else None,
            stats,
        )

    async def get(self, table: str, row_id: str) -> Row | None:
        rows = await _fetch(f"SELECT {_select(table)} FROM {table} WHERE id = {{}}", (canonical(row_id),))
        return _row(table, rows[0]) if rows else None

    async def get_client(self, client_id: str) -> ClientState | None:
        rows = await _q(_GET_CLIENT, client_id)
        return _client_state(rows[0]) if rows else None

    async def changes(self, bucket: str, after: int, upto: int, limit: int) -> list[StoredChange]:
        """R-PULL-7: one statement finds the next ``limit`` changes of the bucket (an indexed
        range scan per table, each limited, merged by seq) with each row's kept JSON
        (``wire.py``); the rows without one are then read and converted by ``_row``."""
        hits = await _fetch(*_changes_sql(bucket, after, upto, limit))  # (tbl, id, seq, live, deleted, kept JSON)
        out: list[StoredChange] = []
        convert: dict[str, dict[int, Any]] = {}  # table -> position in ``out`` -> id as stored
        for table, stored_id, seq, live, deleted, kept in hits:
            if live and kept is None:
                convert.setdefault(table, {})[len(out)] = stored_id
            row = None if kept is None else WireRow(kept, bool(deleted))
            out.append(StoredChange(int(seq), table, _uuid_out(stored_id), row))
        for table, at in convert.items():
            rows = {r["id"]: r for r in await self._converted(table, list(at.values()))}
            for i in at:
                out[i].row = rows.get(out[i].row_id)
        return out

    @staticmethod
    async def _converted(table: str, stored_ids: list[Any]) -> list[Row]:
        """The rows of ``stored_ids`` (ids as the database gives them), converted by ``_row``."""
        rows: list[Row] = []
        for chunk in chunks(stored_ids, 512):
            keys = _padded(chunk)
            found = await _fetch(
                f"SELECT {_select(table)} FROM {table} WHERE id IN ({_placeholders(len(keys))})", keys
            )
            rows += (_row(table, raw) for raw in found)
        return rows

    async def region_ids(self) -> list[str]:
        rows = await _q("SELECT id FROM regions WHERE deleted = {}", False)
        return sorted(str(r["id"]) for r in rows)

    async def today_plan(self, rep_id: str, today: dt.date) -> list[tuple[str, Row]]:
        plans = [
            _row("planned_revisits", r)
            for r in await _fetch(
                f"SELECT {_select('planned_revisits')} FROM planned_revisits WHERE owner_id = {{}} "
                "AND status = 'planned' AND deleted = {} AND due_date <= {} ORDER BY due_date, id LIMIT 500",
                (canonical(rep_id), False, today),
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


_PLAN_ID = 1 + list(TABLES["planned_revisits"].fields).index("id")  # after the leading ``k``
_PLAN_CREATED = 1 + list(TABLES["planned_revisits"].fields).index("created_at")
_PLAN_CUSTOMER = 1 + list(TABLES["planned_revisits"].fields).index("customer_id")


def _padded(items: list[Any]) -> list[Any]:
    """``items`` repeated at the end up to a power of two: an ``IN`` list that long keeps the
    number of distinct statements (each compiled and cached) small."""
    size = 1 << (len(items) - 1).bit_length()
    return items + items[:1] * (size - len(items))


@functools.cache  # by the number of customers and plan ids (powers of two), and the database
def _histories_sql(customers: int, plans: int, postgres: bool) -> str:
    """The open plans and the named plans of the customers, then each one's latest live
    visit as a row of the plan columns (``id``, ``customer_id``; ``started_at`` in
    ``created_at``, the rest NULL), told apart by the leading ``k``; a plan's kept JSON last.

    Both parts are index seeks per customer, however long its history: the plans by
    ``customer_id`` (on SQLite ``+status`` keeps the planner off the index of every open plan
    in the database), the latest visit as the last entry of ``visits_customer_latest``
    (``customer_id, deleted, started_at, id``), no table row read until it is found."""
    plus = "" if postgres else "+"  # as ``_select``: SQLite hands the stored text over unconverted
    visit = {"id": f"{plus}lv.id", "customer_id": f"{plus}lv.customer_id", "created_at": f"{plus}lv.started_at"}
    visit_cols = ", ".join(visit.get(c, "NULL") for c in TABLES["planned_revisits"].fields)
    return (
        f"SELECT 'p' AS k, {_select('planned_revisits')}, {wire.KEPT} AS kept FROM planned_revisits "
        f"WHERE customer_id IN ({_placeholders(customers)}) "
        f"AND (({plus}status = {{}} AND deleted = {{}}) OR id IN ({_placeholders(plans)})) "
        f"UNION ALL SELECT 'v' AS k, {visit_cols}, NULL FROM visits AS lv WHERE lv.id IN ("
        "SELECT (SELECT v.id FROM visits AS v WHERE v.customer_id = c.id AND v.deleted = {} "
        "ORDER BY v.started_at DESC, v.id DESC LIMIT 1) "
        f"FROM customers AS c WHERE c.id IN ({_placeholders(customers)}))"
    )


async def _rows_json(wanted: Mapping[str, Sequence[str]]) -> dict[tuple[str, str], bytes]:
    """The rows of ``wanted`` (table -> canonical ids; absent ones left out) as the JSON of
    their wire form, as ``_Writer`` remembers them: a row's kept JSON (``wire.py``) where it
    is current, else its stored values converted by ``_row``. The kept JSON is that same
    encoding of the same dict (``wire.render``), and taking it costs no conversion of every
    column. One statement for up to ``_ROWS_PER_READ`` ids of all the tables (each one a
    round trip on PostgreSQL, made while the push holds the counter row). A row changed
    outside the engine keeps a stale JSON until ``service.touch`` writes it again, in the
    same transaction; ``get``, which ``touch`` reads with, takes the stored values."""
    out: dict[tuple[str, str], bytes] = {}
    stale: dict[str, list[Any]] = {}
    plus = "" if isinstance(SyncCounter._meta.db, PostgresEngine) else "+"  # as in ``changes``
    parts = [(table, chunk) for table, ids in sorted(wanted.items()) for chunk in chunks(ids, _ROWS_PER_READ)]
    while parts:
        branches: list[str] = []
        args: list[Any] = []
        size = 0
        while parts and (not branches or size + len(parts[0][1]) <= _ROWS_PER_READ):
            table, chunk = parts.pop(0)
            keys = _padded(list(chunk))
            branches.append(f"SELECT '{table}' AS tbl, {plus}id AS id, {wire.KEPT} AS kept "
                            f"FROM {table} WHERE id IN ({_placeholders(len(keys))})")
            args += keys
            size += len(chunk)
        for table, stored_id, kept in await _fetch(" UNION ALL ".join(branches), args):
            if kept is None:
                stale.setdefault(table, []).append(stored_id)
            else:
                out[(table, _uuid_out(stored_id))] = bytes(kept)
    for table, ids in stale.items():
        for row in await _Reader._converted(table, ids):
            out[(table, row["id"])] = _encode_row(row)
    return out


_ROWS_PER_READ = 512


class _Writer(_Reader):
    """A write transaction holding the counter row (R-CUR-1).

    It remembers the rows it read (``get``, ``prefetch``, ``latest_visit_and_plans``) until
    it writes them, so the customer a push's visits name or the region of a recompute is
    read once per transaction, not once per mutation; ``save`` forgets the row, so the next
    ``get`` reads what was written. The customers' histories the cadence reads
    (``load_histories``) it keeps up to date as it writes visits and plans (``history.py``).
    Results of a push (``save_result``) are written together before commit (nothing reads
    them in the transaction that made them, except ``get_result``, which writes them first).
    """

    def __init__(self, first_seq: int) -> None:
        self._next = first_seq
        self.last_seq = first_seq - 1
        self._known: dict[tuple[str, str], bytes | None] = {}  # msgspec JSON of the row, None: absent
        self._results: dict[str, str] = {}
        self._histories: dict[str, History] = {}  # customer id -> what the cadence reads of it

    async def next_seq(self) -> int:
        seq = self._next
        self._next += 1
        self.last_seq = seq
        return seq

    async def get(self, table: str, row_id: str) -> Row | None:
        key = (table, canonical(row_id))
        if key in self._known:
            known = self._known[key]
            return None if known is None else cast(Row, _decode_row(known))
        # the stored values, not the kept JSON: ``touch`` reads a row just written outside the engine
        row = await super().get(table, key[1])
        self._known[key] = None if row is None else _encode_row(row)
        return row

    async def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Read the rows ``keys`` name, of all tables in one statement, so later ``get``s need none."""
        by_table: dict[str, set[str]] = {}
        for table, row_id in keys:
            if table not in TABLES:
                continue
            try:
                key = (table, canonical(row_id))
            except ValueError:
                continue
            if key not in self._known:
                by_table.setdefault(table, set()).add(key[1])
        found = await _rows_json({table: sorted(ids) for table, ids in by_table.items()})
        for table, ids in by_table.items():
            for row_id in ids:
                self._known[(table, row_id)] = found.get((table, row_id))

    def _remember(self, table: str, raws: Iterable[Sequence[Any]]) -> list[Row]:
        """Rows in the order of ``_select`` and then their kept JSON (``wire.KEPT``), remembered
        like ``get``'s; a row with kept JSON is that JSON decoded, no column converted."""
        rows: list[Row] = []
        for raw in raws:
            if (kept := raw[-1]) is None:
                r = _row(table, raw)
                self._known[(table, r["id"])] = _encode_row(r)
            else:
                r = _decode_row(kept)
                self._known[(table, r["id"])] = bytes(kept)
            rows.append(r)
        return rows

    async def latest_visit_and_plans(self, customer_id: str, plan_ids: Sequence[str]) -> tuple[Row | None, list[Row]]:
        """For the cadence: the customer's latest live visit (latest ``started_at``, then the
        larger id; only ``id`` and ``started_at``) and its open planned revisits plus those
        with ``plan_ids``, whole and remembered like ``get``. From what ``load_histories``
        read when it can answer, else one statement."""
        cid = canonical(customer_id)
        history = self._histories.get(cid)
        if history is None or not history.knows(plan_ids):
            await self.load_histories({cid: plan_ids})
            history = self._histories[cid]
        return history.answer(plan_ids)

    async def load_histories(self, plan_ids: Mapping[str, Sequence[str]]) -> dict[str, str | None]:
        """Read what ``latest_visit_and_plans`` answers for every customer of ``plan_ids``
        (customer id -> plan ids it will ask for), one statement per 100 customers. Returns
        each customer's latest live visit id (None: none)."""
        postgres = isinstance(SyncCounter._meta.db, PostgresEngine)
        wanted = {canonical(c): {canonical(p) for p in ids} for c, ids in plan_ids.items()}
        for chunk in chunks(sorted(wanted), 100):
            ids = sorted(set().union(*(wanted[c] for c in chunk))) or [chunk[0]]  # a customer's id names no plan
            customers = _padded([canonical(c) for c in chunk])
            ids = _padded(ids)
            raws = await _fetch(
                _histories_sql(len(customers), len(ids), postgres),
                (*customers, "planned", False, *(canonical(i) for i in ids), False, *customers),
            )
            for c in chunk:
                self._histories[c] = History(None, absent=set(wanted[c]))
            for r in raws:
                if r[0] == "v":
                    visit = {"id": _uuid_out(r[_PLAN_ID]), "started_at": _datetime_out(r[_PLAN_CREATED])}
                    self._histories[_uuid_out(r[_PLAN_CUSTOMER])].latest = visit
            for plan in self._remember("planned_revisits", (r[1:] for r in raws if r[0] == "p")):
                self._histories[plan["customer_id"]].saved("planned_revisits", plan)
        latest = {c: self._histories[c].latest for c in wanted}
        return {c: None if visit is None else str(visit["id"]) for c, visit in latest.items()}

    async def save(self, table: str, row: Row) -> None:
        self._known.pop((table, canonical(row["id"])), None)
        if table in ("visits", "planned_revisits") and self._histories:
            customer = canonical(row["customer_id"])
            history = self._histories.get(customer)
            if history is not None and not history.saved(table, row):
                del self._histories[customer]
        await _defer(_UPSERT[table], *_db_values(table, row), *wire.values(table, row), grouped=True)

    async def customer_rows(self, customer_id: str) -> list[tuple[str, Row]]:
        out: list[tuple[str, Row]] = []
        for table in CUSTOMER_CHILDREN:
            rows = await _fetch(
                f"SELECT {_select(table)} FROM {table} WHERE customer_id = {{}}", (canonical(customer_id),)
            )
            out.extend((table, _row(table, r)) for r in rows)
        return out

    async def add_removal(self, bucket: str, seq: int, table: str, row_id: str) -> None:
        await _defer(
            "INSERT INTO sync_removals (bucket, seq, tbl, row_id) VALUES ({}, {}, {}, {})",
            bucket,
            seq,
            table,
            canonical(row_id),
            grouped=True,
        )

    async def set_bucket_stats(self, bucket: str, stats: BucketStats) -> None:
        await _defer(
            "INSERT INTO sync_buckets (bucket, count, checksum, compacted_through) VALUES ({}, {}, {}, {}) "
            "ON CONFLICT (bucket) DO UPDATE SET count = excluded.count, checksum = excluded.checksum, "
            "compacted_through = excluded.compacted_through",
            bucket,
            stats.count,
            checksum.to_signed(stats.checksum),
            stats.compacted_through,
            grouped=True,  # one row per bucket, written once per ``flush``: the buckets of a push in one batch
        )

    async def save_client(self, state: ClientState, now: dt.datetime) -> None:
        await _save_client(state, now)

    async def get_result(self, client_id: str, n: int) -> bytes | None:
        await self.flush_results()
        rows = await _q("SELECT result FROM sync_results WHERE key = {}", f"{client_id}:{n}")
        return rows[0]["result"].encode() if rows else None

    async def save_result(self, client_id: str, n: int, result: bytes) -> None:
        self._results[f"{client_id}:{n}"] = result.decode()

    async def flush_results(self) -> None:
        """Write the results kept by ``save_result``: one statement per 300."""
        if not self._results:
            return
        items, self._results = list(self._results.items()), {}
        now = dt.datetime.now(dt.UTC)
        for chunk in chunks(items, 300):
            await _defer(
                "INSERT INTO sync_results (key, result, created_at) VALUES "
                + ", ".join("({}, {}, {})" for _ in chunk)
                + " ON CONFLICT (key) DO UPDATE SET result = excluded.result",
                *(v for key, result in chunk for v in (key, result, now)),
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
            canonical(customer_id),
            canonical(item_id),
            False,
            canonical(exclude_id),
            start.astimezone(dt.UTC),
            end.astimezone(dt.UTC),
        )
        return sum((Decimal(str(r["unit_value"] or 0)) * int(r["quantity"]) for r in rows), Decimal(0))

    async def stock_level(self, rep_id: str, item_id: str) -> int:
        rows = await _q(
            "SELECT COALESCE(SUM(delta), 0) AS total FROM stock_movements WHERE rep_id = {} "
            "AND item_id = {} AND deleted = {}",
            canonical(rep_id),
            canonical(item_id),
            False,
        )
        return int(rows[0]["total"] or 0)


async def _save_client(state: ClientState, now: dt.datetime) -> None:
    await _defer(
        "INSERT INTO sync_clients (client_id, user_id, last_n, pulled_seq, created_at, last_seen) "
        "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (client_id) DO UPDATE SET "
        "last_n = excluded.last_n, pulled_seq = excluded.pulled_seq, last_seen = excluded.last_seen",
        state.client_id,
        canonical(state.user_id),
        state.last_n,
        state.pulled_seq,
        now,
        now,
    )


class _PullLog:
    """Group commit of R-PULL-6. Every pull that moves a device's position is a write, and
    on SQLite writes queue behind one writer; under load most of that queue was these
    one-row upserts. A pull adds its record here and waits for a flush task, which takes
    everything added until it holds the writer lock and writes it in one transaction; pulls
    arriving meanwhile start the next one. Each caller still returns only after its own
    record is committed (a flush that fails raises in every caller it carried), and a
    caller that goes away does not cancel the flush others wait for."""

    _SQL = (
        "INSERT INTO sync_clients (client_id, user_id, last_n, pulled_seq, created_at, last_seen) VALUES {rows} "
        "ON CONFLICT (client_id) DO UPDATE SET pulled_seq = excluded.pulled_seq, last_seen = excluded.last_seen"
    )

    def __init__(self) -> None:
        self.pending: dict[str, tuple[Any, ...]] = {}  # by client id: the latest record wins
        self.flush: asyncio.Task[None] | None = None

    async def record(self, entry: tuple[Any, ...]) -> None:
        self.pending[entry[0]] = entry
        if self.flush is None:
            # a context of its own: nothing of the caller's (its transaction, the writer lock it
            # may hold) reaches the flush, which others may be waiting for too
            self.flush = asyncio.get_running_loop().create_task(self._write(), context=contextvars.Context())
            self.flush.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved, even if no one waits
        await asyncio.shield(self.flush)

    @classmethod
    async def write_rows(cls, entries: list[tuple[Any, ...]]) -> None:
        for chunk in chunks(entries, 500):
            await _defer(cls._SQL.format(rows=", ".join("({}, {}, 0, {}, {}, {})" for _ in chunk)),
                         *(v for entry in chunk for v in entry))

    async def _write(self) -> None:
        try:
            async with db.write_transaction():
                batch, self.pending, self.flush = list(self.pending.values()), {}, None
                await self.write_rows(batch)
        finally:
            if self.flush is asyncio.current_task():  # failed before taking the batch: the next pull retries it
                self.flush = None


_PULL_LOGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _PullLog] = weakref.WeakKeyDictionary()


def _pull_log() -> _PullLog:
    """This event loop's ``_PullLog`` (as the writer lock, one per loop)."""
    return db.per_loop(_PULL_LOGS, _PullLog)


# A pull's snapshot. (Its statements may run with PostgreSQL's generic plans: the page of
# ``changes`` is written so that any plan reads the bucket's own index, ``_seq_range``.)
_PG_READ = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"


class PiccoloSyncStore:
    """The server's store; stateless, so every process can build its own."""

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_Reader]:
        """One snapshot for the whole pull (R-CUR-2): REPEATABLE READ on PostgreSQL; on
        SQLite (WAL) a read transaction sees one snapshot from its first read."""
        async with db.read_transaction():
            if isinstance(db.engine(), PostgresEngine):
                await db.run_script(_PG_READ)
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
            await writer.flush_results()
            if writer.last_seq > first:  # hand out the whole block before commit
                await _defer("UPDATE sync_counter SET value = {} WHERE name = 'changes'", writer.last_seq)

    async def record_pull(self, client_id: str, user_id: str, pulled_seq: int, now: dt.datetime) -> None:
        """R-PULL-6: a new client starts at ``last_n = 0``; a known one keeps its ``last_n``
        (and its user: the engine refused a client id of another user). Returns once the
        record is committed; pulls that record at the same time share one commit."""
        entry = (client_id, canonical(user_id), pulled_seq, now, now)
        if db.engine().current_transaction.get() is not None:  # inside a transaction: part of it
            await _PullLog.write_rows([entry])
        else:
            await _pull_log().record(entry)

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

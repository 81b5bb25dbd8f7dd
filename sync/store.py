"""The storage interface the engine talks to (``SyncStore``), nothing more.

Rows cross this boundary in canonical wire form (R-SCHEMA-1): a dict of JSON values
including ``seq``, ``clocks`` (a dict) and ``deleted``. The server implements it on
Piccolo (``server/sync/store.py``); tests use ``sync.memory.MemoryStore``. One contract
suite (``tests/sync_contract/``) runs against both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import msgspec

Row = dict[str, Any]


@dataclass(slots=True)
class ClientState:
    client_id: str
    user_id: str
    last_n: int = 0
    pulled_seq: int = 0  # R-PULL-6
    last_seen: dt.datetime | None = None


@dataclass(slots=True)
class BucketStats:
    count: int = 0
    checksum: int = 0  # unsigned 64-bit sum (R-SUM-2); stores may keep it signed
    compacted_through: int = 0  # R-DEL-3


@dataclass(slots=True)
class Head:
    """What a pull or a verify reads before any change (R-CUR-2: the high-water mark
    first), from the same snapshot as the rest of its transaction."""

    high: int  # the high-water mark (R-CUR-1)
    epoch: str
    client: ClientState | None  # None: an unknown client, or none asked for
    stats: dict[str, BucketStats]  # every bucket asked for; one with no rows yet has zero stats


class WireRow(msgspec.Struct, gc=False):
    """A row its store has already rendered as its wire JSON (R-PULL-2: every schema field,
    in schema order, in wire form), so a pull sends those bytes as they are.

    This and ``StoredChange`` are made once per row of every pull page: as msgspec structs
    they cost a third of what named tuples did (docs/benchmarks.md)."""

    json: bytes | str
    deleted: bool

    def decoded(self) -> Row:
        return msgspec.json.decode(self.json)  # type: ignore[no-any-return]


class StoredChange(msgspec.Struct, gc=False):
    seq: int
    table: str
    row_id: str
    row: Row | WireRow | None  # None: a removal entry (R-BUCKET-4)


def row_of(row: Row | WireRow | None) -> Row | None:
    """A stored change's row as a dict, however the store gave it."""
    return row.decoded() if isinstance(row, WireRow) else row


class ReadTx(Protocol):
    """A consistent snapshot (R-CUR-2): every call sees the same committed state."""

    async def head(self, buckets: Sequence[str], client_id: str | None = None) -> Head:
        """The high-water mark, the epoch, the client's record and the buckets' stats: what
        every pull needs first, which a store may read in one round trip."""
        ...

    async def get(self, table: str, row_id: str) -> Row | None: ...
    async def changes(self, bucket: str, after: int, upto: int, limit: int) -> list[StoredChange]:
        """Rows and removals of ``bucket`` with ``after < seq <= upto``, by seq, at most ``limit``."""
        ...

    async def region_ids(self) -> list[str]: ...
    async def today_plan(self, rep_id: str, today: dt.date) -> list[tuple[str, Row]]:
        """Open planned revisits of the rep due on or before ``today`` and their customers."""
        ...


class WriteTx(ReadTx, Protocol):
    """A write transaction that holds the change counter (R-CUR-1) until it ends; it reads
    what it has written (``head`` gives the buckets' stats it is about to add to).

    Leaving the context normally commits; an exception rolls everything back.
    """

    async def next_seq(self) -> int: ...
    async def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """A hint: ``get`` will be asked for these (table, id) pairs. A store may read them
        all at once now (one query per table instead of one per row) or do nothing; unknown
        tables and ids that are not UUIDs are ignored."""
        ...

    async def save(self, table: str, row: Row) -> None:
        """Insert or replace the full row (its ``seq`` already set by the engine)."""
        ...

    async def customer_rows(self, customer_id: str) -> list[tuple[str, Row]]:
        """Every row of every customer-data table whose ``customer_id`` is this customer."""
        ...

    async def add_removal(self, bucket: str, seq: int, table: str, row_id: str) -> None: ...
    async def set_bucket_stats(self, bucket: str, stats: BucketStats) -> None: ...
    async def get_client(self, client_id: str) -> ClientState | None: ...
    async def save_client(self, state: ClientState, now: dt.datetime) -> None: ...
    async def get_result(self, client_id: str, n: int) -> bytes | None: ...
    async def save_result(self, client_id: str, n: int, result: bytes) -> None: ...
    async def user_of_client(self, client_id: str) -> str | None: ...
    async def gift_value(
        self, customer_id: str, item_id: str, start: dt.datetime, end: dt.datetime, exclude_id: str
    ) -> Decimal:
        """Sum of quantity x unit_value of live gifts of the item to the customer in [start, end)."""
        ...

    async def stock_level(self, rep_id: str, item_id: str) -> int: ...


class SyncStore(Protocol):
    def read(self) -> AbstractAsyncContextManager[ReadTx]: ...
    def write(self) -> AbstractAsyncContextManager[WriteTx]: ...

    async def record_pull(
        self, client_id: str, user_id: str, pulled_seq: int, now: dt.datetime
    ) -> None:
        """Remember where a device stands (R-PULL-6); creates the client record if new."""
        ...

    async def compact(self, through: int) -> int:
        """Purge tombstones and removals with ``seq <= through`` (R-DEL-3); returns rows purged."""
        ...

    async def min_active_position(self, since: dt.datetime) -> int | None:
        """Lowest non-zero ``pulled_seq`` of clients seen since ``since`` (None: none).

        Position 0 means "initial sync": such a device needs no tombstones.
        """
        ...


def as_decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)

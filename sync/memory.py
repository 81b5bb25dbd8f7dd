"""An in-memory ``SyncStore`` for tests and the simulation.

Transactions are real enough to matter: one lock serializes writers (as the counter row
does in a database) and a failed write transaction restores the state it started from.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from sync.buckets import in_bucket
from sync.schema import CUSTOMER_DATA, TABLES
from sync.store import BucketStats, ClientState, Head, Row, StoredChange, as_decimal


@dataclass
class _State:
    tables: dict[str, dict[str, Row]] = field(default_factory=lambda: {t: {} for t in TABLES})
    removals: list[tuple[str, int, str, str]] = field(default_factory=list)
    buckets: dict[str, BucketStats] = field(default_factory=dict)
    clients: dict[str, ClientState] = field(default_factory=dict)
    last_seen: dict[str, dt.datetime] = field(default_factory=dict)
    results: dict[str, bytes] = field(default_factory=dict)
    counter: int = 0
    epoch: str = field(default_factory=lambda: uuid.uuid4().hex)

    def shallow_copy(self) -> _State:
        """Enough to roll back: transactions replace rows and records, never mutate them."""
        return _State(
            tables={t: dict(rows) for t, rows in self.tables.items()},
            removals=list(self.removals),
            buckets=dict(self.buckets),
            clients=dict(self.clients),
            last_seen=dict(self.last_seen),
            results=dict(self.results),
            counter=self.counter,
            epoch=self.epoch,
        )


class _Tx:
    def __init__(self, state: _State) -> None:
        self.s = state

    async def head(self, buckets: Sequence[str], client_id: str | None = None) -> Head:
        client = await self.get_client(client_id) if client_id is not None else None
        stats = {b: copy.copy(self.s.buckets.get(b, BucketStats())) for b in buckets}
        return Head(self.s.counter, self.s.epoch, client, stats)

    async def get(self, table: str, row_id: str) -> Row | None:
        row = self.s.tables[table].get(row_id)
        return copy.deepcopy(row) if row is not None else None

    async def get_client(self, client_id: str) -> ClientState | None:
        c = self.s.clients.get(client_id)
        if c is None:
            return None
        out = copy.copy(c)
        out.last_seen = self.s.last_seen.get(client_id)
        return out

    async def changes(self, bucket: str, after: int, upto: int, limit: int) -> list[StoredChange]:
        out: list[StoredChange] = []
        for table, rows in self.s.tables.items():
            for row in rows.values():
                if after < row["seq"] <= upto and in_bucket(bucket, table, row):
                    out.append(StoredChange(row["seq"], table, row["id"], copy.deepcopy(row)))
        for b, seq, table, row_id in self.s.removals:
            if b == bucket and after < seq <= upto:
                out.append(StoredChange(seq, table, row_id, None))
        out.sort(key=lambda c: c.seq)
        return out[:limit]

    async def region_ids(self) -> list[str]:
        return sorted(r["id"] for r in self.s.tables["regions"].values() if not r["deleted"])

    async def today_plan(self, rep_id: str, today: dt.date) -> list[tuple[str, Row]]:
        plans = [
            r
            for r in self.s.tables["planned_revisits"].values()
            if r["owner_id"] == rep_id
            and r["status"] == "planned"
            and not r["deleted"]
            and r["due_date"] <= today.isoformat()
        ]
        plans.sort(key=lambda r: (r["due_date"], r["id"]))
        out: list[tuple[str, Row]] = []
        seen: set[str] = set()
        for p in plans:
            cust = self.s.tables["customers"].get(p["customer_id"])
            if cust is not None and cust["owner_id"] == rep_id and cust["id"] not in seen:
                seen.add(cust["id"])
                out.append(("customers", copy.deepcopy(cust)))
            out.append(("planned_revisits", copy.deepcopy(p)))
        return out

    # --- write side -------------------------------------------------------------------

    async def next_seq(self) -> int:
        self.s.counter += 1
        return self.s.counter

    async def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        return None  # every get is a dictionary lookup already

    async def save(self, table: str, row: Row) -> None:
        self.s.tables[table][row["id"]] = copy.deepcopy(row)

    async def customer_rows(self, customer_id: str) -> list[tuple[str, Row]]:
        out: list[tuple[str, Row]] = []
        for table in CUSTOMER_DATA:
            for row in self.s.tables[table].values():
                if row.get("customer_id") == customer_id:
                    out.append((table, copy.deepcopy(row)))
        return out

    async def add_removal(self, bucket: str, seq: int, table: str, row_id: str) -> None:
        self.s.removals.append((bucket, seq, table, row_id))

    async def set_bucket_stats(self, bucket: str, stats: BucketStats) -> None:
        self.s.buckets[bucket] = copy.copy(stats)

    async def save_client(self, state: ClientState, now: dt.datetime) -> None:
        self.s.clients[state.client_id] = copy.copy(state)
        self.s.last_seen[state.client_id] = now

    async def get_result(self, client_id: str, n: int) -> bytes | None:
        return self.s.results.get(f"{client_id}:{n}")

    async def save_result(self, client_id: str, n: int, result: bytes) -> None:
        self.s.results[f"{client_id}:{n}"] = result

    async def user_of_client(self, client_id: str) -> str | None:
        c = self.s.clients.get(client_id)
        return c.user_id if c else None

    async def gift_value(
        self, customer_id: str, item_id: str, start: dt.datetime, end: dt.datetime, exclude_id: str
    ) -> Decimal:
        total = Decimal(0)
        for g in self.s.tables["gifts"].values():
            if (
                g["customer_id"] == customer_id
                and g["item_id"] == item_id
                and not g["deleted"]
                and g["id"] != exclude_id
                and start <= dt.datetime.fromisoformat(g["given_at"]) < end
            ):
                total += as_decimal(g["unit_value"]) * g["quantity"]
        return total

    async def stock_level(self, rep_id: str, item_id: str) -> int:
        return sum(
            int(m["delta"])
            for m in self.s.tables["stock_movements"].values()
            if m["rep_id"] == rep_id and m["item_id"] == item_id and not m["deleted"]
        )


class MemoryStore:
    """Holds the whole database in one object; survives engine rebuilds ("restarts")."""

    def __init__(self) -> None:
        self.state = _State()
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_Tx]:
        async with self._lock:
            yield _Tx(self.state)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[_Tx]:
        async with self._lock:
            before = self.state.shallow_copy()
            try:
                yield _Tx(self.state)
            except BaseException:
                self.state = before
                raise

    async def record_pull(self, client_id: str, user_id: str, pulled_seq: int, now: dt.datetime) -> None:
        async with self._lock:
            c = copy.copy(self.state.clients.get(client_id) or ClientState(client_id, user_id))
            c.pulled_seq = pulled_seq
            self.state.clients[client_id] = c
            self.state.last_seen[client_id] = now

    async def min_active_position(self, since: dt.datetime) -> int | None:
        async with self._lock:
            positions = [
                c.pulled_seq
                for c in self.state.clients.values()
                if self.state.last_seen.get(c.client_id, since) >= since and c.pulled_seq > 0
            ]
            return min(positions) if positions else None

    async def compact(self, through: int) -> int:
        async with self._lock:
            purged = 0
            for table in CUSTOMER_DATA:
                rows = self.state.tables[table]
                for row_id in [i for i, r in rows.items() if r["deleted"] and r["seq"] <= through]:
                    del rows[row_id]
                    purged += 1
            kept = [r for r in self.state.removals if r[1] > through]
            purged += len(self.state.removals) - len(kept)
            self.state.removals = kept
            for bucket, stats in list(self.state.buckets.items()):
                self.state.buckets[bucket] = BucketStats(
                    stats.count, stats.checksum, max(stats.compacted_through, through)
                )
            return purged

    def restore(self, snapshot: _State) -> None:
        """Simulate restoring an older backup: old data, new epoch (R-CUR-4)."""
        self.state = copy.deepcopy(snapshot)
        self.state.epoch = uuid.uuid4().hex

    def snapshot(self) -> _State:
        return copy.deepcopy(self.state)

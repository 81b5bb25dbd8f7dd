"""A reference device: replica, outbox and the client side of the protocol.

The PWA's TypeScript client follows the same steps. Here it drives the many-device
simulation; the transport is pluggable (in-process engine or real HTTP).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from sync import checksum
from sync.hlc import Clock, Hlc
from sync.messages import (
    MAX_MUTATIONS,
    PROTOCOL_VERSION,
    Command,
    Create,
    FieldWrite,
    Mutation,
    MutationResult,
    PullResponse,
    PushResponse,
    Put,
)
from sync.schema import TABLES
from sync.uuid7 import uuid7


class TransportLost(Exception):
    """The request or its response was lost; the device retries later."""


class Transport(Protocol):
    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        """POST ``body`` to ``/api/sync/<endpoint>`` as the device's user; (status, body)."""
        ...


@dataclass
class ReplicaRow:
    bucket: str
    v: int
    row: dict[str, Any] | None  # None after a removal
    live: bool = True  # False: a tombstone (kept so stale changes are ignored; R-PULL-3)


@dataclass
class Pending:
    mutation: Mutation


class SyncFailed(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail')}")
        self.status = status
        self.problem = problem


_push_response = msgspec.json.Decoder(PushResponse)
_pull_response = msgspec.json.Decoder(PullResponse)


@dataclass
class Device:
    """One browser-profile database (R-PUSH-1): its own client id, clock and outbox."""

    client_id: str
    user: Any  # whatever the transport needs to authenticate (an Actor, a token, ...)
    wall: Callable[[], int]  # the device's own (possibly wrong) wall clock in ms
    offset_ms: int = 0  # R-HLC-7
    replica: dict[tuple[str, str], ReplicaRow] = field(default_factory=dict)
    outbox: list[Mutation] = field(default_factory=list)
    next_n: int = 1
    cursor: str | None = None
    acked: dict[int, tuple[Mutation, MutationResult]] = field(default_factory=dict)
    rejected: list[tuple[Mutation, MutationResult]] = field(default_factory=list)
    last_checksums_ok: bool = True
    acked_clocks: dict[tuple[str, str, str], str] = field(default_factory=dict)
    clock: Clock = field(init=False)
    stats: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.clock = Clock(self.client_id)

    # --- local writes (R-GEN-1: never wait for the network) --------------------------------

    def now_ms(self) -> int:
        return self.wall() + self.offset_ms

    def _stamp(self) -> str:
        return self.clock.tick(self.now_ms())

    def _enqueue(self, m: Mutation) -> Mutation:
        self.outbox.append(m)
        self.next_n += 1
        return m

    def create(self, table: str, row: dict[str, Any], row_id: str | None = None) -> str:
        row_id = row_id or str(uuid7(self.now_ms()))
        self._enqueue(Create(self.next_n, self._stamp(), table, row_id, dict(row)))
        return row_id

    def put(self, table: str, row_id: str, values: dict[str, Any]) -> Mutation:
        """Each field carries the clock this device last saw for it (R-PUT-1)."""
        fields = {name: FieldWrite(value, self.field_clock(table, row_id, name)) for name, value in values.items()}
        return self._enqueue(Put(self.next_n, self._stamp(), table, row_id, fields))

    def command(self, name: str, args: dict[str, Any]) -> Mutation:
        return self._enqueue(Command(self.next_n, self._stamp(), name, dict(args)))

    def field_clock(self, table: str, row_id: str, name: str) -> str | None:
        """The base of a field: our own latest unsent write, else the replica's clock."""
        for m in reversed(self.outbox):
            if isinstance(m, Put) and m.table == table and m.id == row_id and name in m.fields:
                return m.hlc
            if isinstance(m, Create) and m.table == table and m.id == row_id:
                return m.hlc
        mine = self.acked_clocks.get((table, row_id, name))  # acknowledged, not pulled yet
        entry = self.replica.get((table, row_id))
        clock = None
        if entry is not None and entry.row is not None and entry.live:
            seen = (entry.row.get("clocks") or {}).get(name)
            clock = seen if isinstance(seen, str) else None
        if mine is not None and (clock is None or mine > clock):
            return mine
        return clock

    def rows(self, table: str) -> dict[str, dict[str, Any]]:
        return {k[1]: e.row for k, e in self.replica.items() if k[0] == table and e.live and e.row is not None}

    def live_rows(self) -> dict[tuple[str, str], tuple[str, int, dict[str, Any]]]:
        """(table, id) -> (bucket, v, row) of every live replica row."""
        return {k: (e.bucket, e.v, e.row) for k, e in self.replica.items() if e.live and e.row is not None}

    # --- sync ------------------------------------------------------------------------------

    def _envelope(self) -> dict[str, Any]:
        return {"protocol": PROTOCOL_VERSION, "client_id": self.client_id, "clock": self._stamp()}

    def _adopt(self, server_time: str, clock: str) -> None:
        """R-HLC-6, R-HLC-7: correct the wall clock and receive the server's clock."""
        server_ms = int(dt.datetime.fromisoformat(server_time).timestamp() * 1000)
        self.offset_ms = server_ms - self.wall()
        self.clock.observe(clock, self.now_ms())

    async def _call(self, transport: Transport, endpoint: str, body: dict[str, Any]) -> bytes:
        status, raw = await transport.call(self, endpoint, msgspec.json.encode(body))
        if status == 200:
            return raw
        problem = msgspec.json.decode(raw)
        if isinstance(problem, dict) and "server_time" in problem and "clock" in problem:
            if problem.get("code") != "clock_skew":
                self._adopt(problem["server_time"], problem["clock"])
        raise SyncFailed(status, problem if isinstance(problem, dict) else {})

    async def push(self, transport: Transport) -> None:
        """Push the outbox in order until it is empty (R-PUSH-7), recovering per R-HLC-9, R-PUSH-8."""
        for _ in range(20):
            if not self.outbox:
                return
            batch = self.outbox[:MAX_MUTATIONS]
            body = {**self._envelope(), "mutations": batch}  # the structs, encoded once with the body
            try:
                raw = await self._call(transport, "push", body)
            except SyncFailed as exc:
                code = exc.problem.get("code")
                if code == "clock_skew":
                    self._restamp(exc.problem)
                    continue
                if code == "sequence_gap":
                    self._renumber(int(exc.problem["expected"]))
                    continue
                raise
            resp = _push_response.decode(raw)
            self._adopt(resp.server_time, resp.clock)
            by_n = {r.n: r for r in resp.results}
            keep: list[Mutation] = []
            for m in self.outbox:
                r = by_n.get(m.n)
                if r is None:
                    keep.append(m)
                    continue
                self.acked[m.n] = (m, r)
                if r.status == "rejected":
                    self.rejected.append((m, r))
                elif isinstance(m, Put):
                    for name in m.fields:
                        self.acked_clocks[(m.table, m.id, name)] = m.hlc
                elif isinstance(m, Create):
                    spec = TABLES.get(m.table)
                    for name in spec.clock_fields if spec else m.row:
                        self.acked_clocks[(m.table, m.id, name)] = m.hlc
            self.outbox = keep
        raise RuntimeError("push did not converge")

    def _restamp(self, problem: dict[str, Any]) -> None:
        """R-HLC-9: adopt the server offset, reset the clock, re-stamp unsent writes in order."""
        server_ms = int(dt.datetime.fromisoformat(problem["server_time"]).timestamp() * 1000)
        self.offset_ms = server_ms - self.wall()
        self.clock.reset(self.now_ms())
        self.clock.observe(problem["clock"], self.now_ms())
        self.stats["restamped"] = self.stats.get("restamped", 0) + 1
        out: list[Mutation] = []
        for m in self.outbox:
            hlc = self._stamp()
            out.append(msgspec.structs.replace(m, hlc=hlc))
        # a base we wrote ourselves was re-stamped too: point it at the new clock
        renamed = {old.hlc: new.hlc for old, new in zip(self.outbox, out, strict=True)}
        for i, m in enumerate(out):
            if isinstance(m, Put):
                fields = {k: FieldWrite(w.value, renamed.get(w.base, w.base) if w.base else None) for k, w in m.fields.items()}
                out[i] = msgspec.structs.replace(m, fields=fields)
        self.outbox = out

    def _renumber(self, expected: int) -> None:
        """R-PUSH-8: the server lost numbers (restore); renumber unsent mutations from ``expected``."""
        self.outbox = [msgspec.structs.replace(m, n=expected + i) for i, m in enumerate(self.outbox)]
        self.next_n = expected + len(self.outbox)
        self.stats["renumbered"] = self.stats.get("renumbered", 0) + 1

    async def pull(self, transport: Transport, limit: int = 500, today: str | None = None) -> None:
        """Pull pages until ``more`` is false, then verify checksums (R-PULL-*, R-SUM-3)."""
        for _ in range(10_000):
            body = {**self._envelope(), "cursor": self.cursor, "limit": limit}
            if today:
                body["today"] = today
            try:
                raw = await self._call(transport, "pull", body)
            except SyncFailed as exc:
                if exc.problem.get("code") == "resync_required":  # R-CUR-4
                    self.resync()
                    continue
                if exc.problem.get("code") == "clock_skew":
                    self._restamp(exc.problem)
                    continue
                raise
            resp = _pull_response.decode(raw)
            self._adopt(resp.server_time, resp.clock)
            for c in resp.changes:
                self._apply_change(c.bucket, c.table, c.id, c.v, c.op, c.row)
            self.cursor = resp.cursor  # R-CUR-3: only after the page is applied
            if not resp.more:
                if resp.checksums is not None and not self._verify(resp.checksums):
                    self.stats["repairs"] = self.stats.get("repairs", 0) + 1
                    self.resync()
                    continue
                return
        raise RuntimeError("pull did not finish")

    def resync(self) -> None:
        """Drop the replica, keep the outbox and the rejected list (R-CUR-4, R-SUM-3)."""
        self.replica.clear()
        self.cursor = None
        self.stats["resyncs"] = self.stats.get("resyncs", 0) + 1

    def _apply_change(
        self, bucket: str, table: str, row_id: str, v: int, op: str, sent: dict[str, Any] | msgspec.Raw | None
    ) -> None:
        # a change decoded from JSON holds a dict; only one handed over in-process may be Raw
        row: dict[str, Any] | None = msgspec.json.decode(sent) if isinstance(sent, msgspec.Raw) else sent
        key = (table, row_id)
        cur = self.replica.get(key)
        if op == "remove":  # R-BUCKET-4: only the copy that came from this bucket
            if cur is not None and cur.bucket == bucket and cur.v < v:
                del self.replica[key]
            return
        if cur is not None and cur.v >= v:  # R-PULL-3
            return
        if row is not None:
            for name, c in (row.get("clocks") or {}).items():
                if isinstance(c, str):
                    self.clock.observe(c, self.now_ms())  # R-HLC-6
                    mine = self.acked_clocks.get((table, row_id, name))
                    if mine is not None and c >= mine:  # the server state includes our write
                        del self.acked_clocks[(table, row_id, name)]
        self.replica[key] = ReplicaRow(bucket, v, row, live=op == "put" and row is not None)

    def checksums(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for (table, row_id), e in self.replica.items():
            if not e.live:
                continue
            count, total = out.get(e.bucket, (0, 0))
            out[e.bucket] = (count + 1, checksum.add(total, checksum.row_hash(table, row_id, e.v)))
        return out

    def _verify(self, server: Any) -> bool:
        mine = self.checksums()
        ok = True
        for bucket, s in server.items():
            count, total = mine.get(bucket, (0, 0))
            if count != s.count or checksum.to_hex(total) != s.sum:
                ok = False
        self.last_checksums_ok = ok
        return ok

    async def sync(self, transport: Transport) -> None:
        await self.push(transport)
        await self.pull(transport)


def new_client_id() -> str:
    return str(uuid.uuid4())


def parse_clock(text: str) -> Hlc:
    return Hlc.parse(text)

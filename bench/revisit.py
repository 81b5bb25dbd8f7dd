"""Revisit under benchmark: a real ``revisit serve`` subprocess, bulk seeding, and drivers.

The full-protocol driver is the reference device ``sync.client.Device`` (pages, cursor,
replica apply with R-PULL-3 and R-HLC-6, checksum verification R-SUM-3) over real HTTP.
A plain-HTTP driver (pages and cursor, msgspec decode, no replica logic) sits beside it
so the peers' plain-HTTP figures have a like-for-like partner.

Seeding writes rows the way ``sync.engine.WriteContext.write_row`` does (one ``seq`` per
row from the change counter, clocks per register, bucket count and checksum per row),
but in bulk through Piccolo's multi-row insert, not through HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench import data
from bench.common import PG_URL, VENV_BIN, Proc, free_port
from sync import checksum
from sync.client import Device

PASSWORD = "bench-password-1"


# --- databases ------------------------------------------------------------------------------


@dataclass
class Database:
    kind: str  # "sqlite" | "postgres"
    url: str
    path: Path | None = None  # SQLite file
    pg_name: str | None = None

    def drop(self) -> None:
        if self.pg_name:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", self.pg_name],
                           check=False, capture_output=True)


def new_database(kind: str, workdir: Path, label: str) -> Database:
    if kind == "sqlite":
        path = workdir / f"{label}.db"
        return Database("sqlite", f"sqlite:///{path}", path=path)
    name = f"revisit_bench_{label}_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    base = PG_URL.rsplit("/", 1)[0]
    return Database("postgres", f"{base}/{name}", pg_name=name)


def settings_for(database: Database, workdir: Path) -> Any:
    from server.settings import Settings

    return Settings(database_url=database.url, data_dir=workdir, run_scheduler=False)


# --- seeding (in this process, before the server starts) -------------------------------------


def hlc_at(when: dt.datetime) -> str:
    return f"{int(when.timestamp() * 1000):012x}-0000-server"


async def open_db(database: Database, workdir: Path) -> None:
    from server import db
    from server.migrate import migrate

    settings = settings_for(database, workdir)
    await migrate(settings)
    db.configure_database(settings)
    await db.start_pool()


async def close_db() -> None:
    from server import db

    await db.close_pool()


async def make_reps(count: int, region: str, prefix: str = "rep") -> list[tuple[str, str, str]]:
    """``count`` reps in ``region``: (user id, username, region id); one shared password hash."""
    from server.auth.passwords import hash_password
    from server.users import create_user, ensure_region

    region_id = await ensure_region(region)
    pw_hash = hash_password(PASSWORD)
    out = []
    for i in range(count):
        username = f"{prefix}{i:04d}"
        uid = await create_user(username, PASSWORD, "rep", region_id, password_hash=pw_hash)
        out.append((str(uid), username, str(region_id)))
    return out


class _Seeder:
    """Bulk rows of one rep's bucket with consistent seq, clocks and checksums.

    Rows go in with the database's own bulk path (``executemany`` on SQLite, ``COPY`` on
    PostgreSQL) in the value representation Piccolo uses (its sqlite3 adapters are
    registered process-wide), one transaction per chunk that also takes the seq block
    from ``sync_counter`` and adds the rows to both buckets' count and checksum.
    """

    CHUNK = 20_000

    def __init__(self, database: Database, rep_id: str, region_id: str) -> None:
        from sync.schema import TABLES

        self.database = database
        self.rep_id = uuid.UUID(rep_id)
        self.region_id = uuid.UUID(region_id)
        self.tables = TABLES
        self.now = dt.datetime.now(dt.UTC)
        self.stamp = hlc_at(self.now)
        self._clock_text: dict[str, str] = {}

    def _clocks(self, table: str) -> str:
        cached = self._clock_text.get(table)
        if cached is None:
            cached = json.dumps({f: self.stamp for f in self.tables[table].clock_fields}, separators=(",", ":"))
            self._clock_text[table] = cached
        return cached

    def customer(self, j: int) -> dict[str, Any]:
        return {
            "id": uuid.UUID(data.customer_id(str(self.rep_id), j)), "name": f"客户 {j} 商贸有限公司",
            "kind": "business", "tier": "ABC"[j % 3], "key_account": False, "stage": "active",
            "owner_id": self.rep_id, "region_id": self.region_id, "address": f"上海市浦东新区 {j} 号",
            "latitude": None, "longitude": None, "phone": f"+86 139 {j:08d}", "tags": "[]",
            "preferences": "", "external_id": None, "archived": False, "created_at": self.now,
            "clocks": self._clocks("customers"), "deleted": False,
        }

    def visit(self, doc: dict[str, Any]) -> dict[str, Any]:
        row = data.visit_row(doc)
        return {
            "id": uuid.UUID(doc["id"]), "customer_id": uuid.UUID(row["customer_id"]), "rep_id": self.rep_id,
            "owner_id": self.rep_id, "region_id": self.region_id, "planned_for": None,
            "started_at": dt.datetime.fromisoformat(row["started_at"]), "ended_at": None,
            "latitude": None, "longitude": None, "accuracy": None, "purpose": row["purpose"],
            "outcome": row["outcome"], "satisfaction": row["satisfaction"], "order_value": Decimal("0.00"),
            "currency": "CNY", "notes": row["notes"], "created_at": self.now,
            "clocks": self._clocks("visits"), "deleted": False,
        }

    async def write(self, table: str, rows: Iterator[dict[str, Any]]) -> int:
        total = 0
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == self.CHUNK:
                await self._write_chunk(table, chunk)
                total += len(chunk)
                chunk = []
        if chunk:
            await self._write_chunk(table, chunk)
            total += len(chunk)
        return total

    def _finish(self, table: str, chunk: list[dict[str, Any]], last: int) -> tuple[list[str], list[tuple[Any, ...]], int]:
        from server.sync import wire
        from server.sync.store import (
            _row as wire_form,  # stored values -> wire form, as a read does
        )

        first = last - len(chunk) + 1
        total = 0
        fields = list(self.tables[table].fields)
        for k, row in enumerate(chunk):
            row["seq"] = first + k
            total = checksum.add(total, checksum.row_hash(table, str(row["id"]), first + k))
            # the JSON a write through the sync store keeps beside the row (server/sync/wire.py)
            row["wire"], row["wire_seq"] = wire.values(table, wire_form(table, [row[f] for f in fields]))
        cols = list(chunk[0])
        return cols, [tuple(r[c] for c in cols) for r in chunk], total

    def _buckets(self) -> list[str]:
        return [f"rep:{self.rep_id}", f"region:{self.region_id}"]

    async def _write_chunk(self, table: str, chunk: list[dict[str, Any]]) -> None:
        if self.database.kind == "sqlite":
            await asyncio.to_thread(self._sqlite_chunk, table, chunk)
        else:
            await self._pg_chunk(table, chunk)

    def _sqlite_chunk(self, table: str, chunk: list[dict[str, Any]]) -> None:
        import sqlite3

        import piccolo.engine.sqlite  # noqa: F401  (registers the adapters Piccolo stores with)

        assert self.database.path is not None
        conn = sqlite3.connect(self.database.path, isolation_level=None, timeout=60)
        try:
            conn.execute("BEGIN IMMEDIATE")
            last = conn.execute(
                "UPDATE sync_counter SET value = value + ? WHERE name = 'changes' RETURNING value", (len(chunk),)
            ).fetchone()[0]
            cols, tuples, total = self._finish(table, chunk, int(last))
            conn.executemany(
                f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", tuples
            )
            for bucket in self._buckets():
                cur = conn.execute("SELECT count, checksum FROM sync_buckets WHERE bucket = ?", (bucket,)).fetchone()
                if cur is None:
                    conn.execute(
                        "INSERT INTO sync_buckets (bucket, count, checksum, compacted_through) VALUES (?, ?, ?, 0)",
                        (bucket, len(chunk), checksum.to_signed(total)),
                    )
                else:
                    conn.execute(
                        "UPDATE sync_buckets SET count = ?, checksum = ? WHERE bucket = ?",
                        (cur[0] + len(chunk), checksum.to_signed(checksum.add(checksum.from_signed(cur[1]), total)), bucket),
                    )
            conn.execute("COMMIT")
        finally:
            conn.close()

    async def _pg_chunk(self, table: str, chunk: list[dict[str, Any]]) -> None:
        import asyncpg

        from server.db import postgres_config

        conn = await asyncpg.connect(**postgres_config(self.database.url))
        try:
            async with conn.transaction():
                last = await conn.fetchval(
                    "UPDATE sync_counter SET value = value + $1 WHERE name = 'changes' RETURNING value", len(chunk)
                )
                cols, tuples, total = self._finish(table, chunk, int(last))
                await conn.copy_records_to_table(table, records=tuples, columns=cols)
                for bucket in self._buckets():
                    cur = await conn.fetchrow("SELECT count, checksum FROM sync_buckets WHERE bucket = $1 FOR UPDATE", bucket)
                    if cur is None:
                        await conn.execute(
                            "INSERT INTO sync_buckets (bucket, count, checksum, compacted_through) VALUES ($1, $2, $3, 0)",
                            bucket, len(chunk), checksum.to_signed(total),
                        )
                    else:
                        await conn.execute(
                            "UPDATE sync_buckets SET count = $1, checksum = $2 WHERE bucket = $3",
                            cur["count"] + len(chunk),
                            checksum.to_signed(checksum.add(checksum.from_signed(cur["checksum"]), total)), bucket,
                        )
        finally:
            await conn.close()


async def seed_bucket(database: Database, rep_id: str, region_id: str, records: int, customers: int = 100,
                      salt: str = "visit") -> None:
    """A rep's bucket of ``records`` rows: ``customers`` customers, the rest visits."""
    seeder = _Seeder(database, rep_id, region_id)
    await seeder.write("customers", (seeder.customer(j) for j in range(customers)))
    docs = data.records(records - customers, rep_id, customers, salt)
    await seeder.write("visits", (seeder.visit(d) for d in docs))


async def seed_fillers(database: Database, rows: int) -> None:
    """``rows`` more rows in the buckets of other reps (at most 250,000 each): a big database."""
    k = 0
    while rows > 0:
        rep = (await make_reps(1, "Bench West", f"fill{k}-"))[0]
        n = min(rows, 250_000)
        await seed_bucket(database, rep[0], rep[2], n)
        rows -= n
        k += 1


async def analyze(database: Database) -> None:
    """After a bulk load: the planner's statistics, which a production PostgreSQL's
    autovacuum collects soon after a load. Autovacuum is off on this machine kind, and
    without statistics PostgreSQL estimated a push's customers' visits from defaults and
    scanned a million rows for a handful (0.4 s per push). SQLite collects none unless
    asked, in production as here, so it is left as it is."""
    if database.kind != "postgres":
        return
    import asyncpg

    from server.db import postgres_config

    conn = await asyncpg.connect(**postgres_config(database.url))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# --- the server ------------------------------------------------------------------------------


class RevisitServer:
    """``revisit serve`` on 127.0.0.1 (migrations run at start; scheduler off)."""

    def __init__(self, database: Database, workdir: Path, name: str = "revisit", static_dir: Path | None = None,
                 code: Path | None = None) -> None:
        """``code``: another checkout whose ``server`` and ``sync`` packages to serve (first on the path)."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            "DATABASE_URL": database.url,
            "REVISIT_DATA_DIR": str(workdir),
            "REVISIT_RUN_SCHEDULER": "0",
            "REVISIT_LOGIN_RATE_PER_MINUTE": "1000000",  # the bench logs 200 reps in from one address
            "REVISIT_SYNC_RATE_PER_MINUTE": "1000000",  # a 100k initial sync is 200 pages a run (still counted)
            **({"REVISIT_STATIC_DIR": str(static_dir)} if static_dir is not None else {}),  # the PWA it serves
            **({"PYTHONPATH": str(code)} if code is not None else {}),
        }
        command = [str(VENV_BIN / "revisit")] if code is None else [str(VENV_BIN / "python"), "-m", "server.cli"]
        argv = [*command, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.proc = Proc(f"{name}-{database.kind}", argv, cwd=code or workdir, env=env)
        self.proc.wait_http(self.base + "/api/health", timeout=180)

    def stop(self) -> None:
        self.proc.stop()


@contextlib.asynccontextmanager
async def http_client(base: str, **kw: Any) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=kw.pop("max_connections", 20), max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=base, timeout=kw.pop("timeout", 120.0), limits=limits, **kw) as client:
        yield client


async def login(client: httpx.AsyncClient, username: str) -> str:
    r = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


class HttpTransport:
    """``sync.client.Transport`` over real HTTP with a bearer token; counts bytes."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        self.bytes_in = 0
        self.requests = 0

    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        if endpoint == "verify":
            r = await self.client.get("/api/sync/verify", params={"protocol": 1}, headers=self.headers)
        else:
            r = await self.client.post(f"/api/sync/{endpoint}", content=body, headers=self.headers)
        self.requests += 1
        self.bytes_in += len(r.content)
        return r.status_code, r.content


def new_device(user: str) -> Device:
    import time

    return Device(client_id=str(uuid.uuid4()), user=user, wall=lambda: int(time.time() * 1000))


def check_device(device: Device, expect: int | None = None) -> None:
    """The pull ended with matching checksums, no repair, and the expected rows."""
    if not device.last_checksums_ok or device.stats.get("repairs") or device.stats.get("resyncs"):
        raise RuntimeError(f"device verification failed: {device.stats}")
    if expect is not None:
        live = len(device.live_rows())
        if live < expect:
            raise RuntimeError(f"device holds {live} rows, expected {expect}")


async def plain_pull(client: httpx.AsyncClient, token: str, page: int, cursor: str | None = None,
                     sink: list[tuple[bytes, int]] | None = None) -> tuple[int, str | None, int]:
    """Pages with the cursor until ``more`` is false: (rows, cursor, bytes read)."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    client_id = str(uuid.uuid4())
    seen: dict[tuple[str, str], Any] = {}
    nbytes = 0
    clock = hlc_at(dt.datetime.now(dt.UTC)).replace("server", client_id)
    while True:
        body = {"protocol": 1, "client_id": client_id, "clock": clock, "cursor": cursor, "limit": page}
        r = await client.post("/api/sync/pull", content=msgspec.json.encode(body), headers=headers)
        if r.status_code != 200:
            raise RuntimeError(f"pull {r.status_code}: {r.text[:300]}")
        nbytes += len(r.content)
        if sink is not None:
            sink.append((r.content, r.num_bytes_downloaded))
        resp = msgspec.json.decode(r.content)
        for c in resp["changes"]:
            seen[(c["table"], c["id"])] = c.get("row")
        cursor = resp["cursor"]
        if not resp["more"]:
            return len(seen), cursor, nbytes


def visit_creates(device: Device, docs: Iterator[dict[str, Any]]) -> int:
    n = 0
    for doc in docs:
        device.create("visits", data.visit_row(doc), row_id=doc["id"])
        n += 1
    return n


async def push_batches(device: Device, transport: HttpTransport, batch: int) -> None:
    """Push the outbox ``batch`` mutations per request (R-PUSH-7); every result must be applied."""
    outbox = device.outbox
    pending = list(outbox)
    device.outbox = []
    for i in range(0, len(pending), batch):
        device.outbox = pending[i : i + batch]
        await device.push(transport)
    bad = [r for _, r in device.acked.values() if r.status not in ("applied", "duplicate")]
    if bad:
        raise RuntimeError(f"{len(bad)} mutations not applied, e.g. {bad[0]}")


async def sleep0() -> None:
    await asyncio.sleep(0)

"""A real server process killed with SIGKILL in the middle of pushes: after restarts and
client retries every mutation is applied exactly once (R-PUSH-3) and the database is
intact. The device keeps writing the whole time; it never waits for the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx

from sync.client import Device, TransportLost
from tests.live import LiveServer

KILLS = 4
LIVE_KEY = "live-test-secret-" + "y" * 32


class LiveTransport:
    def __init__(self, server: LiveServer, token: str) -> None:
        self.server = server
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        try:
            async with httpx.AsyncClient(base_url=self.server.url, timeout=10) as c:
                r = await c.post(f"/api/sync/{endpoint}", content=body, headers=self.headers)
        except httpx.HTTPError as exc:
            raise TransportLost(str(exc)) from exc
        return r.status_code, r.content


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


async def _seed(settings: Any) -> tuple[uuid.UUID, str]:
    from server import db
    from server.auth.tokens import encode_access, utcnow
    from server.sync.service import bulk_write
    from sync.actor import Actor

    db.configure_database(settings)
    await db.start_pool()
    try:
        region, rep, customer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        admin = Actor(uuid.uuid4(), "admin", None)
        await bulk_write(admin, [
            ("regions", {"id": region, "name": "Kill"}),
            ("users", {"id": rep, "username": "killrep", "role": "rep", "region_id": region}),
            ("customers", {"id": customer, "name": "Victim", "owner_id": rep, "region_id": region}),
        ])
        token = encode_access(LIVE_KEY, rep, 0, 60, utcnow())
        return customer, token
    finally:
        await db.close_pool()


async def test_sigkill_during_pushes_applies_everything_once(settings: Any, tmp_path: Path) -> None:
    customer, token = await _seed(settings)
    server = LiveServer(settings.database_url, tmp_path)
    await asyncio.to_thread(server.start)
    transport = LiveTransport(server, token)
    device = Device(client_id=f"kill-{uuid.uuid4().hex[:12]}", user=None, wall=_now_ms)
    rng = random.Random(3)
    created: list[str] = []
    lost = 0
    try:
        for _ in range(KILLS):
            stop = asyncio.Event()

            async def writer(stop: asyncio.Event = stop) -> None:
                nonlocal lost
                while not stop.is_set():
                    for _ in range(rng.randint(1, 20)):
                        created.append(device.create("notes", {"customer_id": str(customer), "body": "x"}))
                    try:
                        await device.push(transport)
                    except TransportLost:
                        lost += 1
                    await asyncio.sleep(0)

            task = asyncio.create_task(writer())
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            await asyncio.to_thread(server.kill)  # SIGKILL mid-push
            stop.set()
            await task
            await asyncio.to_thread(server.start)
        await device.sync(transport)
    finally:
        await asyncio.to_thread(server.stop)
    assert lost >= KILLS  # the kills did interrupt pushes
    assert not device.outbox
    assert all(r.status == "applied" for _, r in device.acked.values()), "every mutation applied, none rejected"
    assert len(device.acked) == len(created)
    assert set(device.rows("notes")) == set(created) and device.last_checksums_ok
    if settings.database_url.startswith("sqlite"):
        path = settings.sqlite_path
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            notes = conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM notes").fetchone()
            assert notes == (len(created), len(created))
            seqs = [r[0] for r in conn.execute("SELECT seq FROM notes")]
            assert len(seqs) == len(set(seqs))

"""Two ``revisit serve`` processes on one PostgreSQL behind the same devices.

Each request of the many-device simulation goes to either process at random, and one
process is killed and restarted now and then: every replica still converges on the
server's state, with equal checksums, and no cursor misses a change (R-CUR-1, R-CUR-2).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.actor import Actor
from sync.client import Device, TransportLost
from tests.live import LiveServer
from tests.sync.simulation import Faults, People, Sim, World

pytestmark = pytest.mark.postgres

LIVE_KEY = "live-test-secret-" + "y" * 32
RUNS = int(os.environ.get("REVISIT_MULTIPROCESS_RUNS", "2"))


class _User:
    def __init__(self, actor: Actor) -> None:
        from server.auth.tokens import encode_access, utcnow

        token = encode_access(LIVE_KEY, actor.user_id, 0, 120, utcnow())
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


class TwoServers:
    """A transport that sends each call to one of the processes, chosen at random."""

    def __init__(self, servers: list[LiveServer], rng: random.Random) -> None:
        self.servers = servers
        self.rng = rng
        self.hits = [0 for _ in servers]

    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        index = self.rng.randrange(len(self.servers))
        server = self.servers[index]
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
                if endpoint == "verify":
                    r = await c.get("/api/sync/verify?protocol=1", headers=device.user.headers)
                else:
                    r = await c.post(f"/api/sync/{endpoint}", content=body, headers=device.user.headers)
        except httpx.HTTPError as exc:
            raise TransportLost(str(exc)) from exc
        self.hits[index] += 1
        return r.status_code, r.content

    async def restart_one(self) -> None:
        server = self.rng.choice(self.servers)
        server.kill()
        server.start()


@pytest.mark.parametrize("seed", range(RUNS))
async def test_two_processes_converge(seed: int, settings: Any, database_url: str, tmp_path: Path) -> None:
    from server import db
    from server.sync import service

    db.configure_database(settings)
    await db.start_pool()
    rng = random.Random(seed)
    servers = [LiveServer(database_url, tmp_path) for _ in range(2)]
    for server in servers:
        server.start()
    transport = TwoServers(servers, rng)

    async def seed_data(people: People, rows: list[tuple[str, dict[str, Any]]]) -> None:
        await service.bulk_write(people.admin, rows, run_hooks=False)
        admin = people.admin
        await service.bulk_write(
            admin,
            [("users", {"id": str(admin.user_id), "username": f"admin-{admin.user_id.hex[:6]}",
                        "role": "admin", "region_id": None})],
        )

    world = World(transport=transport, seed_data=seed_data, restart=transport.restart_one,
                  make_user=lambda d, a: _User(a), real_time=True)
    try:
        sim = Sim(world, rng, Faults())
        await sim.run(steps=50)
        await sim.check()
        assert sim.events.get("sync_ok", 0) > 0
        assert all(hits > 0 for hits in transport.hits), transport.hits
    finally:
        for server in servers:
            server.stop()
        await db.close_pool()

"""The many-device simulation (tests/sync/simulation.py) over real HTTP, through the real
app and database: SQLite by default, PostgreSQL with ``REVISIT_TEST_DATABASE_URL``.

``REVISIT_SIM_RUNS`` sets the number of seeded runs (``make soak``: 1,000); by default 200
on SQLite and 20 on PostgreSQL under ``CI=true``, 20 and 5 otherwise.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from sync.actor import Actor
from tests.server.sync_http import HttpTransport
from tests.server.world import token_for
from tests.sync.simulation import Faults, People, Sim, World

ON_POSTGRES = bool(os.environ.get("REVISIT_TEST_DATABASE_URL"))
# CI runs 200 seeded scenarios on SQLite and 20 on PostgreSQL; a local `make test` runs 20 and 5.
_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUNS = int(os.environ.get("REVISIT_SIM_RUNS", ("20" if _CI else "5") if ON_POSTGRES else ("200" if _CI else "20")))
STEPS = int(os.environ.get("REVISIT_SIM_STEPS", "60"))


class _User:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.headers = {"Authorization": f"Bearer {token_for(actor.user_id)}"}


def http_world(client: Any) -> World:
    from server.sync import service
    from sync.hlc import SERVER_NODE, Clock

    async def seed(people: People, rows: list[tuple[str, dict[str, Any]]]) -> None:
        await service.bulk_write(people.admin, rows, run_hooks=False)
        admin = people.admin
        await service.bulk_write(
            admin,
            [("users", {"id": str(admin.user_id), "username": f"admin-{admin.user_id.hex[:6]}",
                        "role": "admin", "region_id": None})],
        )

    async def restart() -> None:
        # a new process: no engine, a fresh server clock; the database is what persists
        service._engines.clear()
        service._clock = Clock(SERVER_NODE)

    return World(transport=HttpTransport(client), seed_data=seed, restart=restart,
                 make_user=lambda d, a: _User(a), real_time=True)


@pytest.mark.parametrize("seed", range(RUNS))
async def test_simulation_over_http(client: Any, seed: int) -> None:
    sim = Sim(http_world(client), random.Random(seed), Faults())
    await sim.run(steps=STEPS)
    await sim.check()
    assert sim.events.get("sync_ok", 0) > 0

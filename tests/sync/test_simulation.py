"""The many-device simulation on the in-memory store (no database, fast)."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from sync.engine import SyncEngine
from sync.memory import MemoryStore
from sync.transport import EngineTransport
from tests.sync.simulation import Faults, People, Sim, World, command_count


def memory_world() -> tuple[World, list[SyncEngine]]:
    store = MemoryStore()
    world_clock: list[int] = []
    holder: list[SyncEngine] = []

    def now() -> Any:
        import datetime as dt

        return dt.datetime.fromtimestamp(world_clock[0][0] / 1000, dt.UTC)  # type: ignore[index]

    def build() -> SyncEngine:
        return SyncEngine(store, now=now)

    async def seed(people: People, rows: list[tuple[str, dict[str, Any]]]) -> None:
        async def write(ctx: Any) -> None:
            for table, row in rows:
                await ctx.create_as_server(table, row)

        await holder[0].run(people.admin, write)

    async def restart() -> None:
        holder[0] = build()  # state survives in the store; the engine (and its clock) is new

    world = World(transport=EngineTransport(lambda: holder[0]), seed_data=seed, restart=restart)
    world_clock.append(world.clock_ms)  # type: ignore[arg-type]
    holder.append(build())
    return world, holder


@pytest.mark.parametrize("seed", range(int(os.environ.get("REVISIT_SIM_MEMORY_RUNS", "40"))))
async def test_simulation_converges(seed: int) -> None:
    world, _ = memory_world()
    sim = Sim(world, random.Random(seed), Faults())
    await sim.run(steps=120)
    await sim.check()
    assert sim.events.get("sync_ok", 0) > 0


async def test_simulation_exercises_the_hard_paths() -> None:
    """Across a few runs, every fault and recovery path actually happened."""
    totals: dict[str, int] = {}
    commands = 0
    for seed in range(8):
        world, _ = memory_world()
        sim = Sim(world, random.Random(1000 + seed), Faults())
        await sim.run(steps=150)
        await sim.check()
        for k, v in {**sim.events, **sim.net.stats}.items():
            totals[k] = totals.get(k, 0) + v
        for d in sim.devices.values():
            for k, v in d.stats.items():
                totals[k] = totals.get(k, 0) + v
        commands += command_count(sim.devices)
    for key in ("lost_request", "lost_response", "duplicated", "late_delivered", "restart", "restamped",
                "reassign", "delete", "partition"):
        assert totals.get(key, 0) > 0, f"{key} never happened: {totals}"
    assert commands > 0

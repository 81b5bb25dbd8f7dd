"""The many-device simulation on the in-memory store (no database, fast)."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import msgspec
import pytest

from sync.engine import SyncEngine
from sync.memory import MemoryStore
from sync.transport import EngineTransport
from tests.sync.simulation import Faults, People, Sim, World, command_count


class SmallPages:
    """Pull pages of ``limit`` changes, so that devices page through their buckets, and a
    turn of the event loop after each answer, in which the engine reads the next page ahead."""

    def __init__(self, inner: EngineTransport, limit: int) -> None:
        self.inner, self.limit = inner, limit

    async def call(self, device: Any, endpoint: str, body: bytes) -> tuple[int, bytes]:
        if endpoint == "pull":
            body = msgspec.json.encode({**msgspec.json.decode(body), "limit": self.limit})
        answer = await self.inner.call(device, endpoint, body)
        await asyncio.sleep(0)
        return answer


def memory_world(read_ahead: int = 0, built: list[SyncEngine] | None = None) -> tuple[World, list[SyncEngine]]:
    store = MemoryStore()
    world_clock: list[int] = []
    holder: list[SyncEngine] = []

    def now() -> Any:
        import datetime as dt

        return dt.datetime.fromtimestamp(world_clock[0][0] / 1000, dt.UTC)  # type: ignore[index]

    def build() -> SyncEngine:
        engine = SyncEngine(store, now=now, read_ahead=read_ahead)
        if built is not None:
            built.append(engine)
        return engine

    async def seed(people: People, rows: list[tuple[str, dict[str, Any]]]) -> None:
        async def write(ctx: Any) -> None:
            for table, row in rows:
                await ctx.create_as_server(table, row)

        await holder[0].run(people.admin, write)

    async def restart() -> None:
        holder[0] = build()  # state survives in the store; the engine (and its clock) is new

    transport: Any = EngineTransport(lambda: holder[0])
    if read_ahead:
        transport = SmallPages(transport, 3)
    world = World(transport=transport, seed_data=seed, restart=restart)
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


async def test_simulation_converges_with_pages_read_ahead() -> None:
    """Devices page three changes at a time while the engine makes their next pages ahead
    (``sync.readahead``) and the others write in between: every run converges, and pages
    made ahead were both used and dropped."""
    engines: list[SyncEngine] = []
    for seed in range(int(os.environ.get("REVISIT_SIM_MEMORY_RUNS", "40")) // 4):
        world, _ = memory_world(read_ahead=4, built=engines)
        sim = Sim(world, random.Random(500 + seed), Faults())
        await sim.run(steps=120)
        await sim.check()
    assert sum(e.read_ahead.hits for e in engines) > 0
    assert sum(e.read_ahead.stale for e in engines) > 0


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

"""Sync requests are rate limited per user across all devices (and processes)."""

from __future__ import annotations

import time
from typing import Any

from server.ratelimit import WindowLimiter
from tests.server.world import World


def _pull(client_id: str) -> dict[str, Any]:
    clock = f"{int(time.time() * 1000):012x}-0000-{client_id}"
    return {"protocol": 1, "client_id": client_id, "clock": clock, "cursor": None, "limit": 10}


async def test_too_many_syncs_get_429_with_retry_after_and_clock(client: Any, world: World, app: Any) -> None:
    app.state.sync_limiter = WindowLimiter(4, window=3600)
    rob = world["rob"]
    statuses = []
    for device in ("rob-phone-1", "rob-tablet-1", "rob-phone-1", "rob-tablet-1", "rob-phone-1"):
        r = await client.post("/api/sync/pull", json=_pull(device), headers=rob.headers)
        statuses.append(r.status_code)
    assert statuses == [200, 200, 200, 200, 429]  # both of rob's devices count together
    body = r.json()
    assert body["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    assert body["server_time"] and body["clock"]  # R-ERR-1: the device can still correct its clock
    # another user is not affected
    other = await client.post("/api/sync/pull", json=_pull("rita-phone-1"), headers=world["rita"].headers)
    assert other.status_code == 200

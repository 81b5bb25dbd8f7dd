"""Fixed-window rate limits kept in the database, so all server processes share them.

One upsert per hit: ``hits`` restarts at 1 when a new window begins. Answered with 429,
``Retry-After`` and problem JSON (code ``rate_limited``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from server.errors import ApiError
from server.tables import ServerSetting

_UPSERT = (
    "INSERT INTO rate_limits (key, window_start, hits) VALUES ({}, {}, 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    "hits = CASE WHEN rate_limits.window_start = excluded.window_start "
    "THEN rate_limits.hits + 1 ELSE 1 END, "
    "window_start = excluded.window_start "
    "RETURNING hits"
)


class WindowLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: int = 60, clock: Callable[[], float] = time.time):
        self.limit = limit
        self.window = window
        self._clock = clock

    async def hit(self, key: str) -> None:
        now = self._clock()
        start = int(now // self.window) * self.window
        rows = await ServerSetting.raw(_UPSERT, key[:160], start)
        if rows and int(rows[0]["hits"]) > self.limit:
            retry = max(1, math.ceil(start + self.window - now))
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests; try again in {retry} s",
                headers={"Retry-After": str(retry)},
                extra={"retry_after": retry},
            )

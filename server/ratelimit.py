"""Fixed-window rate limits, answered with 429, ``Retry-After`` and problem JSON.

On PostgreSQL (several server processes) the windows live in the database, one upsert per
hit, so all processes share them. On SQLite, which runs one server process, they live in
memory: a database write per request would cost a commit on the one writer's queue.
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

    def __init__(
        self,
        limit: int,
        window: int = 60,
        clock: Callable[[], float] = time.time,
        *,
        shared: bool = True,
    ):
        self.limit = limit
        self.window = window
        self.shared = shared
        self._clock = clock
        self._local: dict[str, tuple[int, int]] = {}

    async def _count(self, key: str, start: int) -> int:
        if self.shared:
            rows = await ServerSetting.raw(_UPSERT, key[:160], start)
            return int(rows[0]["hits"]) if rows else 0
        window, hits = self._local.get(key, (start, 0))
        hits = hits + 1 if window == start else 1
        self._local[key] = (start, hits)
        if len(self._local) > 50_000:  # forget past windows so memory stays bounded
            self._local = {k: v for k, v in self._local.items() if v[0] == start}
        return hits

    async def hit(self, key: str) -> None:
        now = self._clock()
        start = int(now // self.window) * self.window
        if await self._count(key, start) > self.limit:
            retry = max(1, math.ceil(start + self.window - now))
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests; try again in {retry} s",
                headers={"Retry-After": str(retry)},
                extra={"retry_after": retry},
            )

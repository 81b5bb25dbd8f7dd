"""A fixed-window limiter for login attempts, answered with 429 and ``Retry-After``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from server.errors import ApiError


class WindowLimiter:
    """``limit`` hits per ``window`` seconds and key. In-process; see docs/operations.md."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> None:
        now = self._clock()
        start, count = self._hits.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= self.limit:
            retry = max(1, math.ceil(self.window - (now - start)))
            raise ApiError(
                429,
                "rate_limited",
                f"too many attempts; try again in {retry} s",
                headers={"Retry-After": str(retry)},
                extra={"retry_after": retry},
            )
        self._hits[key] = (start, count + 1)
        if len(self._hits) > 10_000:  # forget stale windows so memory stays bounded
            self._hits = {k: v for k, v in self._hits.items() if now - v[0] < self.window}

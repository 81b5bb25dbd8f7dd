"""Work a request starts and does not wait for: a pull page made ahead (``readahead``), a
pull's position recorded (R-PULL-6). Each task is kept referenced until it is done (the
event loop holds tasks weakly); ``settle`` waits for all of them (server shutdown, before
the database closes; tests that read what they wrote)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("revisit.sync")


class Background:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background work failed: %r", exc, exc_info=exc)

    async def settle(self) -> None:
        """Until every task started, and every task started meanwhile, is done (shutdown:
        no request starts more)."""
        while self._running:
            await self.finish_started()

    async def finish_started(self) -> None:
        """Until the tasks started so far are done; those started meanwhile (under load
        there always are some) are not waited for."""
        if self._running:
            await asyncio.wait(set(self._running))

"""App lifespan part of the scheduler: runs the jobs inside ``revisit serve`` when
``settings.run_scheduler`` (set ``REVISIT_RUN_SCHEDULER=0`` on all but one process, or run
``revisit scheduler`` separately; several schedulers are still safe, only wasteful)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from server.scheduler.jobs import running_scheduler


@asynccontextmanager
async def scheduler_lifespan(app: Litestar) -> AsyncIterator[None]:
    async with running_scheduler(app.state.push_sender) as scheduler:
        app.state.scheduler = scheduler
        yield

"""APScheduler 3.11 wiring: module-level async jobs, explicit ids, generous misfire grace.

The durable state is in our own tables (``notification_log``), so the default in-memory
job store is enough: a restarted process simply sweeps again, and the first run of every
job happens at start (catch-up of whatever was missed while the server was down).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from server.push.sender import PushSender
from server.scheduler import delivery, reminders

log = logging.getLogger("revisit.scheduler")
# APScheduler logs every run at INFO (several a minute); our sweeps log what matters.
logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60}


def utcnow() -> datetime:
    return datetime.now(UTC)


async def due_reminders(sender: PushSender) -> None:
    async with reminders.planning_leader("due") as leader:
        if leader:
            await reminders.plan_due(utcnow())
    await delivery.deliver(sender, utcnow())


async def overdue_reminders(sender: PushSender) -> None:
    async with reminders.planning_leader("overdue") as leader:
        if leader:
            await reminders.plan_overdue(utcnow())
    await delivery.deliver(sender, utcnow())


async def manager_digest(sender: PushSender) -> None:
    async with reminders.planning_leader("digest") as leader:
        if leader:
            await reminders.plan_digest(utcnow())
    await delivery.deliver(sender, utcnow())


async def retry_deliveries(sender: PushSender) -> None:
    await delivery.deliver(sender, utcnow())


async def compact_sync(sender: PushSender) -> None:
    """R-DEL-3: purge tombstones and removals every active device has already pulled.

    Idempotent, so it takes no leadership: it must never hold the planning lock that the
    reminder jobs starting at the same moment need."""
    from server.sync.service import get_engine

    purged = await get_engine().compact()
    if purged:
        log.info("sync compaction purged %d tombstones and removals", purged)


# (id, function, seconds between runs)
JOBS = [
    ("due_reminders", due_reminders, 60),
    ("overdue_reminders", overdue_reminders, 10 * 60),
    ("manager_digest", manager_digest, 10 * 60),
    ("retry_deliveries", retry_deliveries, 30),
    ("compact_sync", compact_sync, 6 * 60 * 60),
]


def build_scheduler(sender: PushSender) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults=dict(JOB_DEFAULTS))
    start = utcnow()
    for job_id, func, seconds in JOBS:
        scheduler.add_job(
            func,
            IntervalTrigger(seconds=seconds, timezone="UTC"),
            args=[sender],
            id=job_id,
            name=job_id.replace("_", " "),
            replace_existing=True,
            next_run_time=start,  # run once at start: catch-up after downtime
        )
    return scheduler


@asynccontextmanager
async def running_scheduler(sender: PushSender) -> AsyncIterator[AsyncIOScheduler]:
    """Start inside a running loop (``start()`` needs it); ``shutdown(wait=False)`` cancels
    running jobs, which is safe: claims are released by their lease."""
    scheduler = build_scheduler(sender)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)

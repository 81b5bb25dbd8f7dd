"""``revisit scheduler``: the jobs in a process of their own (several web processes share
one PostgreSQL and run with ``REVISIT_RUN_SCHEDULER=0``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import datetime

import msgspec

from server import db
from server.migrate import migrate
from server.push.sender import PushSender
from server.push.vapid import load_vapid_keys
from server.scheduler.jobs import running_scheduler
from server.scheduler.sweeps import sweep
from server.settings import Settings

log = logging.getLogger("revisit.scheduler")


async def run(settings: Settings, *, once: bool = False, now: datetime | None = None) -> int:
    """Run the scheduler until SIGINT/SIGTERM, or one sweep (``once``) at ``now``.

    ``--once --now`` exists for operations (send what is due, then exit, from cron) and for
    the tests that start two scheduler processes against one database."""
    await migrate(settings)
    await db.start_pool()
    try:
        keys = await load_vapid_keys()
        async with PushSender(keys, settings.vapid_subject) as sender:
            if once:
                report = await sweep(sender, now or datetime.now().astimezone())
                print(msgspec.json.encode({
                    "planned": report.planned.pending,
                    "dropped": report.planned.dropped + report.delivered.dropped,
                    "sent": report.delivered.sent,
                    "messages": report.delivered.messages,
                    "retried": report.delivered.retried,
                    "keys_sent": report.delivered.keys_sent,
                }).decode(), flush=True)
                return 0
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            async with running_scheduler(sender):
                print("revisit scheduler running (Ctrl-C to stop)", flush=True)
                await stop.wait()
            return 0
    finally:
        await db.close_pool()

"""The sweeps the scheduler runs: each one idempotent, each given ``now``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from server.push.sender import PushSender
from server.scheduler import delivery, reminders
from server.scheduler.delivery import DeliveryReport
from server.scheduler.reminders import PlanReport


@dataclass
class SweepReport:
    planned: PlanReport = field(default_factory=PlanReport)
    delivered: DeliveryReport = field(default_factory=DeliveryReport)


async def plan_all(now: datetime) -> PlanReport:
    report = PlanReport()
    plans = (("due", reminders.plan_due), ("overdue", reminders.plan_overdue),
             ("digest", reminders.plan_digest))
    for kind, plan in plans:
        async with reminders.planning_leader(kind) as leader:
            if leader:
                report.add(await plan(now))
    return report


async def sweep(sender: PushSender, now: datetime) -> SweepReport:
    """Everything at once: what start-up catch-up and ``revisit scheduler --once`` run."""
    planned = await plan_all(now)
    delivered = await delivery.deliver(sender, now)
    return SweepReport(planned, delivered)

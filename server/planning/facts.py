"""Loading the live cadence rules (the scheduler's reminder leads, the hooks' rule list)."""

from __future__ import annotations

from server.planning.cadence import Rule
from server.tables import CadenceRule


async def load_rules() -> list[Rule]:
    rows = await CadenceRule.select(
        CadenceRule.id,
        CadenceRule.tier,
        CadenceRule.region_id,
        CadenceRule.stage,
        CadenceRule.interval_days,
        CadenceRule.reminder_lead_days,
    ).where(CadenceRule.deleted == False)  # noqa: E712
    return [Rule(**r) for r in rows]

"""What a write transaction knows of a customer's history for the cadence.

The cadence needs, per customer, the latest live visit and the open plans plus a few plans
it names by id (``server.planning.facts.latest_history``). A push of many visits reads
them for all their customers in one statement before it applies them; this keeps each
answer right as the transaction writes visits and plans, so the visits after the first
ask the database nothing. A write it cannot follow (the latest visit deleted or moved
back) forgets the customer, and the next question reads the database again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


def _order(visit: Row) -> tuple[dt.datetime, str]:
    """The databases' order of visits: ``started_at``, then the id as lowercase text."""
    at = visit["started_at"]
    if not isinstance(at, dt.datetime):
        at = dt.datetime.fromisoformat(str(at))
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at, str(visit["id"]).lower()


def _is_open(plan: Row) -> bool:
    return plan.get("status") == "planned" and not plan.get("deleted")


@dataclass
class History:
    latest: Row | None
    """``id`` and ``started_at`` of the latest live visit; None: no live visit."""
    plans: dict[str, Row] = field(default_factory=dict)
    """Every open plan, and every plan asked for by id that exists (plan id -> row)."""
    absent: set[str] = field(default_factory=set)
    """Plan ids asked for that do not exist."""

    def knows(self, plan_ids: Collection[str]) -> bool:
        return all(p in self.plans or p in self.absent for p in plan_ids)

    def answer(self, plan_ids: Collection[str]) -> tuple[Row | None, list[Row]]:
        """What the database would answer: the latest visit, the open plans and those of ``plan_ids``."""
        return self.latest, [row for pid, row in self.plans.items() if pid in plan_ids or _is_open(row)]

    def saved(self, table: str, row: Row) -> bool:
        """Follow a row the transaction wrote; False when this history can no longer answer."""
        if table == "planned_revisits":
            self.plans[str(row["id"])] = dict(row)
            self.absent.discard(str(row["id"]))
            return True
        if table != "visits":
            return True
        is_latest = self.latest is not None and str(self.latest["id"]) == str(row["id"])
        if not row.get("deleted") and (self.latest is None or _order(row) >= _order(self.latest)):
            self.latest = {"id": str(row["id"]), "started_at": row["started_at"]}
            return True
        return not is_latest  # the latest visit was deleted or moved back: some other one is latest now

"""``/api/reports``: the manager's coverage dashboard (parse and serialise only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from server.auth.guards import managers_and_admins
from server.auth.schemas import CurrentUser
from server.reports import service
from server.reports.schemas import CoverageReport
from server.rest.clock import utcnow
from sync.actor import Actor


class ReportController(Controller):
    path = "/api/reports"
    tags = ["reports"]
    guards = [managers_and_admins]

    @get(
        "/coverage",
        summary="Per-rep coverage of a region: cadence share by tier, overdue, forgotten, "
        "visits, gift spend, satisfaction, complaints",
    )
    async def coverage(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        region_id: FromQuery[UUID | None] = None,
    ) -> CoverageReport:
        return await service.coverage_report(actor, region_id, utcnow(), request.user.time_zone)

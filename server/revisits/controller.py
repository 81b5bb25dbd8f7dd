"""``/api/planned-revisits``."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.schemas import CurrentUser
from server.rest.clock import local_today, utcnow
from server.rest.paging import Limit, Offset
from server.revisits import service
from server.revisits.schemas import (
    PlannedRevisitCreate,
    PlannedRevisitPage,
    PlannedRevisitPublic,
    PlannedRevisitUpdate,
    PlanStatus,
)
from sync.actor import Actor


def _today(request: Request[CurrentUser, Any, Any]) -> date:
    return local_today(utcnow(), request.user.time_zone)


class PlannedRevisitController(Controller):
    path = "/api/planned-revisits"
    tags = ["planned revisits"]

    @get("/", summary="Planned revisits in scope, soonest first")
    async def list_plans(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        due_before: FromQuery[date | None] = None,
        status: FromQuery[PlanStatus | None] = None,
        customer_id: FromQuery[UUID | None] = None,
        rep_id: FromQuery[UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PlannedRevisitPage:
        return await service.list_plans(
            actor,
            _today(request),
            due_before=due_before,
            status=status,
            customer_id=customer_id,
            rep_id=rep_id,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Plan a revisit by hand (source=manual)")
    async def create_plan(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        data: JSONBody[PlannedRevisitCreate],
    ) -> PlannedRevisitPublic:
        return await service.create(actor, data, _today(request))

    @get("/{plan_id:uuid}", summary="One planned revisit")
    async def get_plan(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        plan_id: FromPath[UUID],
    ) -> PlannedRevisitPublic:
        return await service.get(actor, plan_id, _today(request))

    @patch("/{plan_id:uuid}", summary="Move a planned revisit or change its status")
    async def update_plan(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        plan_id: FromPath[UUID],
        data: JSONBody[PlannedRevisitUpdate],
    ) -> PlannedRevisitPublic:
        return await service.update(actor, plan_id, data, _today(request))

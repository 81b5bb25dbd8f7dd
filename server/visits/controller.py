"""``/api/visits`` and ``/api/customers/{id}/visits``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from server.rest.paging import Limit, Offset
from server.visits import service
from server.visits.schemas import VisitCreate, VisitPage, VisitPublic
from sync.actor import Actor


class VisitController(Controller):
    path = "/api"
    tags = ["visits"]

    @get("/visits", summary="Visits in scope, newest first")
    async def list_visits(
        self,
        actor: NamedDependency[Actor],
        customer_id: FromQuery[UUID | None] = None,
        rep_id: FromQuery[UUID | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> VisitPage:
        return await service.list_visits(
            actor,
            customer_id=customer_id,
            rep_id=rep_id,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )

    @get("/customers/{customer_id:uuid}/visits", summary="Visits of one customer")
    async def list_customer_visits(
        self,
        actor: NamedDependency[Actor],
        customer_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> VisitPage:
        return await service.list_for_customer(actor, customer_id, limit, offset)

    @post("/visits", summary="Log a visit")
    async def create_visit(
        self, actor: NamedDependency[Actor], data: JSONBody[VisitCreate]
    ) -> VisitPublic:
        return await service.create(actor, data)

    @get("/visits/{visit_id:uuid}", summary="One visit")
    async def get_visit(
        self, actor: NamedDependency[Actor], visit_id: FromPath[UUID]
    ) -> VisitPublic:
        return await service.get(actor, visit_id)

    @delete("/visits/{visit_id:uuid}", summary="Delete a visit logged in error (a tombstone)")
    async def delete_visit(self, actor: NamedDependency[Actor], visit_id: FromPath[UUID]) -> None:
        await service.delete(actor, visit_id)

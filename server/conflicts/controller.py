"""``/api/conflicts``: review the losing side of concurrent edits."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from server.conflicts import service
from server.conflicts.schemas import ConflictPage, ConflictPublic, ConflictStatus
from server.rest.paging import Limit, Offset
from sync.actor import Actor


class ConflictController(Controller):
    path = "/api/conflicts"
    tags = ["conflicts"]

    @get("/", summary="Sync conflicts in scope, newest first")
    async def list_conflicts(
        self,
        actor: NamedDependency[Actor],
        status: FromQuery[ConflictStatus | None] = None,
        customer_id: FromQuery[UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ConflictPage:
        return await service.list_conflicts(
            actor, status=status, customer_id=customer_id, limit=limit, offset=offset
        )

    @get("/{conflict_id:uuid}", summary="One conflict")
    async def get_conflict(
        self, actor: NamedDependency[Actor], conflict_id: FromPath[UUID]
    ) -> ConflictPublic:
        return await service.get(actor, conflict_id)

    @post("/{conflict_id:uuid}/restore", status_code=200, summary="Put the losing value back")
    async def restore_conflict(
        self, actor: NamedDependency[Actor], conflict_id: FromPath[UUID]
    ) -> ConflictPublic:
        return await service.restore(actor, conflict_id)

    @post("/{conflict_id:uuid}/dismiss", status_code=200, summary="Keep the winning value")
    async def dismiss_conflict(
        self, actor: NamedDependency[Actor], conflict_id: FromPath[UUID]
    ) -> ConflictPublic:
        return await service.dismiss(actor, conflict_id)

"""``/api/gifts`` and ``/api/customers/{id}/gifts``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import managers_and_admins
from server.gifts import service
from server.gifts.schemas import GiftCreate, GiftPage, GiftPublic, GiftReview, ReviewStatus
from server.rest.paging import Limit, Offset
from sync.actor import Actor


class GiftController(Controller):
    path = "/api"
    tags = ["gifts"]

    @get("/gifts", summary="Gifts in scope, newest first (filter over_cap=true to review)")
    async def list_gifts(
        self,
        actor: NamedDependency[Actor],
        customer_id: FromQuery[UUID | None] = None,
        rep_id: FromQuery[UUID | None] = None,
        item_id: FromQuery[UUID | None] = None,
        over_cap: FromQuery[bool | None] = None,
        review_status: FromQuery[ReviewStatus | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> GiftPage:
        return await service.list_gifts(
            actor,
            customer_id=customer_id,
            rep_id=rep_id,
            item_id=item_id,
            over_cap=over_cap,
            review_status=review_status,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )

    @get("/customers/{customer_id:uuid}/gifts", summary="Gifts given to one customer")
    async def list_customer_gifts(
        self,
        actor: NamedDependency[Actor],
        customer_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> GiftPage:
        return await service.list_for_customer(actor, customer_id, limit, offset)

    @post("/gifts", summary="Record a gift (over the yearly cap: kept and flagged)")
    async def create_gift(
        self, actor: NamedDependency[Actor], data: JSONBody[GiftCreate]
    ) -> GiftPublic:
        return await service.create(actor, data)

    @get("/gifts/{gift_id:uuid}", summary="One gift")
    async def get_gift(self, actor: NamedDependency[Actor], gift_id: FromPath[UUID]) -> GiftPublic:
        return await service.get(actor, gift_id)

    @patch(
        "/gifts/{gift_id:uuid}",
        guards=[managers_and_admins],
        summary="Review a gift (approve an over-cap gift with a comment)",
    )
    async def review_gift(
        self, actor: NamedDependency[Actor], gift_id: FromPath[UUID], data: JSONBody[GiftReview]
    ) -> GiftPublic:
        return await service.review(actor, gift_id, data)

    @delete("/gifts/{gift_id:uuid}", summary="Delete a gift recorded in error (a tombstone)")
    async def delete_gift(self, actor: NamedDependency[Actor], gift_id: FromPath[UUID]) -> None:
        await service.delete(actor, gift_id)

"""``/api/customers``: parse and serialise only; decisions live in the service."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.auth.guards import managers_and_admins
from server.auth.schemas import CurrentUser
from server.customers import service
from server.customers.schemas import (
    BulkReassign,
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerPublic,
    CustomerUpdate,
    Kind,
    Reassign,
    ReassignResult,
    Stage,
    Tier,
)
from server.rest.clock import local_today, utcnow
from server.rest.paging import Limit, Offset
from sync.actor import Actor

Search = Annotated[str | None, QueryParameter(max_length=100, description="name or phone contains")]


def _today(request: Request[CurrentUser, Any, Any]) -> Any:
    return local_today(utcnow(), request.user.time_zone)


class CustomerController(Controller):
    path = "/api/customers"
    tags = ["customers"]

    @get("/", summary="Search and list customers in scope")
    async def list_customers(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        q: Search = None,
        tier: FromQuery[Tier | None] = None,
        stage: FromQuery[Stage | None] = None,
        kind: FromQuery[Kind | None] = None,
        owner_id: FromQuery[UUID | None] = None,
        archived: FromQuery[bool | None] = False,
        overdue: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CustomerPage:
        filters = service.CustomerFilters(
            q=q,
            tier=tier,
            stage=stage,
            kind=kind,
            owner_id=owner_id,
            archived=archived,
            overdue=overdue,
        )
        return await service.list_customers(actor, filters, _today(request), limit, offset)

    @post("/", summary="Create a customer")
    async def create_customer(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        data: JSONBody[CustomerCreate],
    ) -> CustomerPublic:
        return await service.create_customer(actor, data, _today(request))

    @get("/{customer_id:uuid}", summary="Customer detail with contacts, timeline and next visit")
    async def get_customer(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        customer_id: FromPath[UUID],
    ) -> CustomerDetail:
        return await service.get_detail(actor, customer_id, _today(request))

    @patch("/{customer_id:uuid}", summary="Edit profile fields; archive with archived=true")
    async def update_customer(
        self,
        request: Request[CurrentUser, Any, Any],
        actor: NamedDependency[Actor],
        customer_id: FromPath[UUID],
        data: JSONBody[CustomerUpdate],
    ) -> CustomerPublic:
        return await service.update_customer(actor, customer_id, data, _today(request))

    @post(
        "/{customer_id:uuid}/reassign",
        status_code=200,
        guards=[managers_and_admins],
        summary="Reassign a customer and all its records to another rep of its region",
    )
    async def reassign_customer(
        self, actor: NamedDependency[Actor], customer_id: FromPath[UUID], data: JSONBody[Reassign]
    ) -> ReassignResult:
        bulk = BulkReassign(customer_ids=[customer_id], to_rep_id=data.to_rep_id)
        return await service.reassign(actor, bulk)

    @post(
        "/reassign",
        status_code=200,
        guards=[managers_and_admins],
        summary="Reassign several customers to one rep, in one transaction",
    )
    async def reassign_many(
        self, actor: NamedDependency[Actor], data: JSONBody[BulkReassign]
    ) -> ReassignResult:
        return await service.reassign(actor, data)

"""``/api/admin/*`` (admins only), plus the read-only lists other roles need:
``/api/users`` (managers: their region's people) and ``/api/gift-items`` (the catalog)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from server.admin import service, users
from server.admin.schemas import (
    CadenceRuleCreate,
    CadenceRulePublic,
    CadenceRuleUpdate,
    GiftItemCreate,
    GiftItemPublic,
    GiftItemUpdate,
    PasswordReset,
    RegionCreate,
    RegionPublic,
    RegionUpdate,
    Role,
    UserAdminView,
    UserCreate,
    UserPage,
    UserUpdate,
)
from server.auth.guards import admins_only, managers_and_admins
from server.rest.clock import utcnow
from server.rest.paging import Limit, Offset
from sync.actor import Actor


class UserAdminController(Controller):
    path = "/api/admin/users"
    tags = ["admin"]
    guards = [admins_only]

    @get("/", summary="List users")
    async def list_users(
        self,
        actor: NamedDependency[Actor],
        role: FromQuery[Role | None] = None,
        region_id: FromQuery[UUID | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> UserPage:
        return await users.list_users(
            actor, role=role, region_id=region_id, active=active, limit=limit, offset=offset
        )

    @post("/", summary="Create a user with a role, region and password")
    async def create_user(
        self, actor: NamedDependency[Actor], data: JSONBody[UserCreate]
    ) -> UserAdminView:
        return await users.create_user(actor, data)

    @get("/{user_id:uuid}", summary="One user")
    async def get_user(
        self, actor: NamedDependency[Actor], user_id: FromPath[UUID]
    ) -> UserAdminView:
        return await users.get_user(actor, user_id)

    @patch("/{user_id:uuid}", summary="Edit role, region, profile or deactivate (revokes tokens)")
    async def update_user(
        self, actor: NamedDependency[Actor], user_id: FromPath[UUID], data: JSONBody[UserUpdate]
    ) -> UserAdminView:
        return await users.update_user(actor, user_id, data, utcnow())

    @post(
        "/{user_id:uuid}/password",
        status_code=204,
        summary="Set a new password (every token of the user is revoked)",
    )
    async def reset_password(
        self, actor: NamedDependency[Actor], user_id: FromPath[UUID], data: JSONBody[PasswordReset]
    ) -> None:
        await users.reset_password(actor, user_id, data, utcnow())


class RegionAdminController(Controller):
    path = "/api/admin/regions"
    tags = ["admin"]
    guards = [admins_only]

    @get("/", summary="List regions")
    async def list_regions(self) -> list[RegionPublic]:
        return await service.list_regions()

    @post("/", summary="Create a region")
    async def create_region(
        self, actor: NamedDependency[Actor], data: JSONBody[RegionCreate]
    ) -> RegionPublic:
        return await service.create_region(actor, data)

    @get("/{region_id:uuid}", summary="One region")
    async def get_region(self, region_id: FromPath[UUID]) -> RegionPublic:
        return await service.get_region(region_id)

    @patch("/{region_id:uuid}", summary="Rename a region or change its time zone")
    async def update_region(
        self, actor: NamedDependency[Actor], region_id: FromPath[UUID], data: JSONBody[RegionUpdate]
    ) -> RegionPublic:
        return await service.update_region(actor, region_id, data)

    @delete("/{region_id:uuid}", summary="Delete an empty region")
    async def delete_region(self, actor: NamedDependency[Actor], region_id: FromPath[UUID]) -> None:
        await service.delete_region(actor, region_id)


class CadenceRuleAdminController(Controller):
    path = "/api/admin/cadence-rules"
    tags = ["admin"]
    guards = [admins_only]

    @get("/", summary="List cadence rules")
    async def list_rules(self) -> list[CadenceRulePublic]:
        return await service.list_rules()

    @post("/", summary="Create a cadence rule")
    async def create_rule(
        self, actor: NamedDependency[Actor], data: JSONBody[CadenceRuleCreate]
    ) -> CadenceRulePublic:
        return await service.create_rule(actor, data)

    @get("/{rule_id:uuid}", summary="One cadence rule")
    async def get_rule(self, rule_id: FromPath[UUID]) -> CadenceRulePublic:
        return await service.get_rule(rule_id)

    @patch("/{rule_id:uuid}", summary="Edit a cadence rule")
    async def update_rule(
        self,
        actor: NamedDependency[Actor],
        rule_id: FromPath[UUID],
        data: JSONBody[CadenceRuleUpdate],
    ) -> CadenceRulePublic:
        return await service.update_rule(actor, rule_id, data)

    @delete("/{rule_id:uuid}", summary="Delete a cadence rule")
    async def delete_rule(self, actor: NamedDependency[Actor], rule_id: FromPath[UUID]) -> None:
        await service.delete_rule(actor, rule_id)


class GiftItemAdminController(Controller):
    path = "/api/admin/gift-items"
    tags = ["admin"]
    guards = [admins_only]

    @get("/", summary="List the gift catalog, inactive items included")
    async def list_items(self) -> list[GiftItemPublic]:
        return await service.list_items(active_only=False)

    @post("/", summary="Add a gift item")
    async def create_item(
        self, actor: NamedDependency[Actor], data: JSONBody[GiftItemCreate]
    ) -> GiftItemPublic:
        return await service.create_item(actor, data)

    @get("/{item_id:uuid}", summary="One gift item")
    async def get_item(self, item_id: FromPath[UUID]) -> GiftItemPublic:
        return await service.get_item(item_id)

    @patch("/{item_id:uuid}", summary="Edit a gift item (value, cap, names, active)")
    async def update_item(
        self, actor: NamedDependency[Actor], item_id: FromPath[UUID], data: JSONBody[GiftItemUpdate]
    ) -> GiftItemPublic:
        return await service.update_item(actor, item_id, data)

    @delete("/{item_id:uuid}", summary="Delete a gift item (prefer active=false)")
    async def delete_item(self, actor: NamedDependency[Actor], item_id: FromPath[UUID]) -> None:
        await service.delete_item(actor, item_id)


class DirectoryController(Controller):
    """Read-only lists for every role's screens."""

    path = "/api"
    tags = ["directory"]

    @get("/users", guards=[managers_and_admins], summary="Users a manager works with (own region)")
    async def list_users(
        self,
        actor: NamedDependency[Actor],
        role: FromQuery[Role | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> UserPage:
        return await users.list_users(
            actor, role=role, region_id=None, active=active, limit=limit, offset=offset
        )

    @get("/gift-items", summary="The active gift catalog")
    async def list_gift_items(self) -> list[GiftItemPublic]:
        return await service.list_items(active_only=True)

    @get("/regions", summary="All regions")
    async def list_regions(self) -> list[RegionPublic]:
        return await service.list_regions()

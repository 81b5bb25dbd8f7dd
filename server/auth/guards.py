"""Role guards and the ``actor`` dependency every scoped service receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from server.auth.schemas import CurrentUser
from sync.actor import Actor

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def requires_role(*roles: str) -> Guard:
    """403 unless the caller has one of ``roles``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user: CurrentUser = connection.user
        if user.role not in roles:
            raise PermissionDeniedException(
                f"this action needs the role {' or '.join(roles)}; you are a {user.role}"
            )

    return guard


managers_and_admins = requires_role("manager", "admin")
admins_only = requires_role("admin")


def actor_of(user: CurrentUser) -> Actor:
    return Actor(user_id=user.id, role=user.role, region_id=user.region_id)  # type: ignore[arg-type]


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return actor_of(request.user)


async def provide_current_user(request: Request[Any, Any, Any]) -> CurrentUser:
    return request.user  # type: ignore[no-any-return]

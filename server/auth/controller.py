"""``/api/auth/*`` and ``/api/me``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from server.auth import service
from server.auth.schemas import CurrentUser, LoginRequest, RefreshRequest, TokenPair, UserPublic
from server.auth.tokens import utcnow


class LogoutRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str | None = None


class AuthController(Controller):
    path = "/api"
    tags = ["auth"]

    @post("/auth/login", status_code=200, summary="Log in with username and password")
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]) -> TokenPair:
        limiter = request.app.state.login_limiter
        client = request.client.host if request.client else "unknown"
        await limiter.hit(f"login-ip:{client}")
        await limiter.hit(f"login-user:{data.username.lower()}")
        return await service.login(
            data.username, data.password, data.device_id, request.app.state.token_key,
            request.app.state.settings, utcnow(),
        )

    @post("/auth/refresh", status_code=200, summary="Exchange a refresh token for a new pair")
    async def refresh(self, request: Request[Any, Any, Any], data: JSONBody[RefreshRequest]) -> TokenPair:
        return await service.refresh(
            data.refresh_token, request.app.state.token_key, request.app.state.settings, utcnow()
        )

    @post("/auth/logout", status_code=204, summary="Revoke the refresh token (or all of them)")
    async def logout(
        self, request: Request[CurrentUser, Any, Any], data: JSONBody[LogoutRequest]
    ) -> None:
        await service.logout(data.refresh_token, request.user, utcnow())

    @get("/me", summary="The logged-in user")
    async def me(self, request: Request[CurrentUser, Any, Any]) -> UserPublic:
        return request.user.public()

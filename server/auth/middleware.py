"""Bearer-token authentication for ``/api``; the shell, assets and login stay open."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.auth.tokens import decode_access
from server.auth.users import user_by_id

# The endpoints under /api that a logged-out client must reach; everything outside /api
# (the app shell, assets, service worker, OpenAPI schema) is public too.
OPEN_API_PATHS = frozenset(
    {"/api/health", "/api/auth/login", "/api/auth/refresh", "/api/push/vapid-public-key"}
)


def is_open(path: str) -> bool:
    return not path.startswith("/api/") or path.rstrip("/") in OPEN_API_PATHS


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        if is_open(connection.scope["path"]):
            return AuthenticationResult(user=None, auth=None)
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("missing bearer token; log in first")
        key = connection.app.state.token_key
        decoded = decode_access(key, token.strip())
        if decoded is None:
            raise NotAuthorizedException("access token is invalid or expired")
        user_id, token_version = decoded
        user = await user_by_id(user_id)
        # R-AUTH: deactivation and logout-everywhere bump token_version and revoke at once.
        if user is None or not user.active or user.token_version != token_version:
            raise NotAuthorizedException("access token has been revoked")
        return AuthenticationResult(user=user, auth=token)

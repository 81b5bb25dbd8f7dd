"""The composition root: ``create_app()`` wires settings, database, auth, routes and jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from server import db
from server.auth.controller import AuthController
from server.auth.guards import provide_actor, provide_current_user
from server.auth.middleware import BearerAuthMiddleware
from server.compression import compression_config
from server.errors import internal_error_response, problem_response
from server.headers import add_security_headers
from server.health import health
from server.openapi import document_errors
from server.ratelimit import WindowLimiter
from server.secrets import get_or_create, token_urlsafe
from server.settings import Settings, load_settings
from server.web import pwa_routes, spa_fallback


# Feature route handlers (controllers/routers). Each feature adds itself here.
def feature_routes() -> list[Any]:
    from server.planning.forgotten import forgotten_customers
    from server.push.controller import PushController, RemindersController
    from server.rest.routes import rest_controllers

    routes: list[Any] = [health, AuthController, *rest_controllers()]
    routes += [PushController, RemindersController, forgotten_customers]
    from server.sync.controller import SyncController

    routes.append(SyncController)
    return routes


# Extra lifespan contexts (scheduler, push sessions), each given the app.
LifespanHook = Callable[[Litestar], AbstractAsyncContextManager[None]]


def lifespan_hooks(settings: Settings) -> list[LifespanHook]:
    from server.push.lifespan import push_lifespan
    from server.scheduler.lifespan import scheduler_lifespan

    hooks: list[LifespanHook] = [push_lifespan]
    if settings.run_scheduler:
        hooks.append(scheduler_lifespan)
    return hooks


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    db.configure_database(settings)
    hooks = lifespan_hooks(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.start_pool()
        try:
            await db.prepare_sqlite()
            app.state.token_key = settings.secret_key or await get_or_create(
                "token_key", token_urlsafe
            )
            async with _nested(app, hooks):
                yield
        finally:
            from server.sync import service

            await service.settle()  # no pull page being read, no pull's record being written, when the pool closes
            await db.close_pool()

    app = Litestar(
        route_handlers=[*feature_routes(), *pwa_routes(settings.static_dir)],
        lifespan=[lifespan],
        dependencies={
            "actor": Provide(provide_actor),
            "current_user": Provide(provide_current_user),
        },
        middleware=[
            DefineMiddleware(BearerAuthMiddleware),
        ],
        exception_handlers={
            NotFoundException: spa_fallback(settings.static_dir),
            HTTPException: problem_response,
            Exception: internal_error_response,
        },
        openapi_config=OpenAPIConfig(
            title="Revisit API",
            version="1.0.0",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
        before_send=[add_security_headers],
        # Sync pages are repetitive JSON: compressed ~10x for slow mobile networks.
        compression_config=compression_config(),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
    document_errors(app.openapi_schema)
    app.state.settings = settings
    shared = settings.is_postgres  # several processes share PostgreSQL; SQLite runs one
    app.state.login_limiter = WindowLimiter(settings.login_rate_per_minute, shared=shared)
    app.state.sync_limiter = WindowLimiter(settings.sync_rate_per_minute, shared=shared)
    return app


@asynccontextmanager
async def _nested(app: Litestar, hooks: list[LifespanHook]) -> AsyncIterator[None]:
    if not hooks:
        yield
        return
    async with hooks[0](app), _nested(app, hooks[1:]):
        yield

"""Serving the built PWA: shell and service worker never cached, hashed assets for a year."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.response import File
from litestar.static_files import create_static_files_router

from server.errors import problem_response

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")

NO_CACHE = CacheControlHeader(no_cache=True)


def pwa_routes(dist: Path) -> list[Any]:
    """Routes for the PWA build in ``dist`` (none if it has not been built)."""
    if not (dist / "index.html").is_file():
        return []
    routes: list[Any] = []
    assets = dist / "assets"
    if assets.is_dir():
        routes.append(
            create_static_files_router(
                "/assets",
                directories=[assets.resolve()],
                cache_control=CacheControlHeader(max_age=31_536_000, public=True),
                name="pwa-assets",
                include_in_schema=False,
            )
        )

    @get("/sw.js", include_in_schema=False, cache_control=NO_CACHE, sync_to_thread=False)
    def service_worker() -> File:
        return File(dist / "sw.js", media_type="text/javascript", content_disposition_type="inline",
                    headers={"Service-Worker-Allowed": "/"})

    routes.append(service_worker)
    routes.append(
        create_static_files_router(
            "/",
            directories=[dist.resolve()],
            html_mode=True,
            cache_control=NO_CACHE,
            name="pwa-shell",
            include_in_schema=False,
        )
    )
    return routes


def spa_fallback(dist: Path) -> Any:
    """404 handler: a browser navigation to a deep link gets the app shell, APIs get JSON."""

    def handler(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
        index = dist / "index.html"
        wants_html = "text/html" in request.headers.get("accept", "")
        path = request.url.path
        if (
            request.method == "GET"
            and wants_html
            and not path.startswith(("/api/", "/schema"))
            and index.is_file()
        ):
            return File(index, media_type="text/html", content_disposition_type="inline",
                        headers={"Cache-Control": "no-cache"})
        return problem_response(request, exc)

    return handler


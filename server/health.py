"""``GET /api/health``: for load balancers and the Docker HEALTHCHECK."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.exceptions import HTTPException
from piccolo.querystring import QueryString

from server.db import engine


class Health(msgspec.Struct):
    status: str
    database: str
    version: str


@get("/api/health", tags=["ops"], summary="Liveness and database check")
async def health() -> Health:
    from importlib.metadata import version

    db = engine()
    try:
        await db.run_querystring(QueryString("SELECT 1"))
    except Exception as exc:  # the database is down: say so with 503, not 500
        raise HTTPException(status_code=503, detail=f"database unavailable: {type(exc).__name__}") from exc
    return Health(status="ok", database=db.engine_type, version=version("revisit"))

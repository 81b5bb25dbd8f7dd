"""``/api/sync``: push, pull and verify (docs/sync-protocol.md). Parse, call the engine,
serialise; every answer, errors included, carries ``server_time`` and ``clock`` (R-ERR-1).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from server.errors import ApiError
from server.sync.service import get_engine
from sync.actor import Actor
from sync.engine import check_protocol, parse_request
from sync.messages import (
    MAX_BODY_BYTES,
    PullResponse,
    PushResponse,
    SyncError,
    VerifyResponse,
    pull_request_decoder,
    push_request_decoder,
)
from sync.transport import problem

JSON = "application/json"


def _error(err: SyncError) -> Response[Any]:
    retry = err.extra.get("retry_after")
    return Response(
        content=msgspec.json.encode(problem(get_engine(), err)),
        status_code=err.status,
        media_type="application/problem+json",
        headers={"Retry-After": str(retry)} if retry else None,
    )


async def _rate_limit(request: Request[Any, Any, Any], actor: Actor) -> None:
    """R-LIM-5: requests per user and minute, counted in the database for all processes."""
    try:
        await request.app.state.sync_limiter.hit(f"sync-user:{actor.user_id}")
    except ApiError as exc:
        extra = exc.extra if isinstance(exc.extra, dict) else {}
        raise SyncError(429, "rate_limited", exc.detail, retry_after=extra.get("retry_after", 60)) from exc


async def _body(request: Request[Any, Any, Any]) -> bytes:
    """Read at most the configured body size (R-LIM-3) and answer 413 beyond it."""
    settings = getattr(request.app.state, "settings", None)
    limit = getattr(settings, "max_body_bytes", MAX_BODY_BYTES)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SyncError(413, "too_large", f"request body over {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise SyncError(413, "too_large", f"request body over {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post(
        "/push",
        summary="Push numbered mutations (docs/sync-protocol.md §4)",
        description="Body: a push request of docs/sync-protocol.md §4.1. Idempotent per client_id and n.",
        request_max_body_size=None,
        status_code=200,
    )
    async def push(self, request: Request[Any, Any, Any], actor: NamedDependency[Actor]) -> Response[PushResponse]:
        engine = get_engine()
        try:
            await _rate_limit(request, actor)
            req = parse_request(await _body(request), push_request_decoder)
            resp = await engine.push(actor, req)
        except SyncError as err:
            return _error(err)
        return Response(content=resp, media_type=JSON)

    @post(
        "/pull",
        summary="Pull a page of changes of the caller's buckets (docs/sync-protocol.md §9)",
        description="Body: a pull request of docs/sync-protocol.md §9.1; the cursor is opaque.",
        request_max_body_size=None,
        status_code=200,
    )
    async def pull(self, request: Request[Any, Any, Any], actor: NamedDependency[Actor]) -> Response[PullResponse]:
        engine = get_engine()
        try:
            await _rate_limit(request, actor)
            req = parse_request(await _body(request), pull_request_decoder)
            resp = await engine.pull(actor, req)
        except SyncError as err:
            return _error(err)
        return Response(content=resp, media_type=JSON)

    @get("/verify", summary="Bucket counts and checksums at the high-water mark (R-SUM-4)")
    async def verify(
        self, actor: NamedDependency[Actor], protocol: FromQuery[int | None] = None
    ) -> Response[VerifyResponse]:
        engine = get_engine()
        try:
            check_protocol(protocol)
            resp = await engine.verify(actor)
        except SyncError as err:
            return _error(err)
        return Response(content=resp, media_type=JSON)

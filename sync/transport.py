"""The in-process transport: a device talks to a ``SyncEngine`` without HTTP.

It renders errors exactly as the HTTP controller does (R-ERR-1), so the simulation can
run over this or over real HTTP unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from sync.actor import Actor
from sync.client import Device
from sync.engine import SyncEngine, parse_request
from sync.messages import SyncError, pull_request_decoder, push_request_decoder

TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 413: "Request Entity Too Large"}


def problem(engine: SyncEngine, err: SyncError) -> dict[str, Any]:
    """RFC 9457 body of a sync error, with the server's time and clock (R-ERR-1)."""
    server_time, clock = engine.stamp_response(engine.now())
    return {
        "type": f"https://revisit.example/problems/{err.code}",
        "title": TITLES.get(err.status, "Error"),
        "status": err.status,
        "detail": err.message,
        "code": err.code,
        "server_time": server_time,
        "clock": clock,
        **err.extra,
    }


async def handle(engine: SyncEngine, actor: Actor, endpoint: str, body: bytes) -> tuple[int, bytes]:
    try:
        if endpoint == "push":
            resp: Any = await engine.push(actor, parse_request(body, push_request_decoder))
        elif endpoint == "pull":
            resp = await engine.pull(actor, parse_request(body, pull_request_decoder))
        else:
            resp = await engine.verify(actor)
    except SyncError as err:
        return err.status, msgspec.json.encode(problem(engine, err))
    return 200, msgspec.json.encode(resp)


class EngineTransport:
    """Calls the engine directly; ``engine`` is looked up per call so it can be rebuilt."""

    def __init__(self, engine: Callable[[], SyncEngine]) -> None:
        self.engine = engine

    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        actor = device.user
        assert isinstance(actor, Actor)
        return await handle(self.engine(), actor, endpoint, body)

"""Talking sync over real HTTP (httpx + ASGITransport through the real app)."""

from __future__ import annotations

from typing import Any

from sync.client import Device


class HttpTransport:
    """``sync.client.Transport`` over an httpx client; ``device.user`` has ``headers``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        headers = {**device.user.headers, "Content-Type": "application/json"}
        if endpoint == "verify":
            r = await self.client.get("/api/sync/verify?protocol=1", headers=headers)
        else:
            r = await self.client.post(f"/api/sync/{endpoint}", content=body, headers=headers)
        return r.status_code, r.content

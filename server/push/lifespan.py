"""App lifespan part of push: the VAPID key (created on first start) and one sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from server.push.sender import PushSender
from server.push.vapid import load_vapid_keys


@asynccontextmanager
async def push_lifespan(app: Litestar) -> AsyncIterator[None]:
    keys = await load_vapid_keys()
    app.state.vapid = keys
    app.state.push_sender = PushSender(keys, app.state.settings.vapid_subject)
    try:
        yield
    finally:
        await app.state.push_sender.close()

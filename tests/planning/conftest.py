from __future__ import annotations

from typing import Any

import pytest

from tests.push.support import allow_http, fake_push  # noqa: F401 (fixture)
from tests.server.world import World, build_world


@pytest.fixture
def settings(settings: Any) -> Any:
    return allow_http(settings)


@pytest.fixture
async def world(client: Any) -> World:
    return await build_world(client)

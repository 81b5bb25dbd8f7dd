from __future__ import annotations

from typing import Any

import pytest

from tests.server.world import World, build_world


@pytest.fixture
async def world(client: Any) -> World:
    return await build_world(client)

"""Users and regions created by the CLI or the admin API reach the devices that hold them."""

from __future__ import annotations

import time
from typing import Any

from tests.server.world import World


def _pull_body(client_id: str) -> dict[str, Any]:
    clock = f"{int(time.time() * 1000):012x}-0000-{client_id}"
    return {"protocol": 1, "client_id": client_id, "clock": clock, "cursor": None, "limit": 2000}


async def _pull_all(client: Any, headers: dict[str, str], client_id: str) -> list[dict[str, Any]]:
    body = _pull_body(client_id)
    changes: list[dict[str, Any]] = []
    while True:
        response = await client.post("/api/sync/pull", json=body, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        changes += page["changes"]
        if not page["more"]:
            return changes
        body = {**_pull_body(client_id), "cursor": page["cursor"]}


async def test_a_managers_device_receives_the_regions_users(client: Any, world: World) -> None:
    changes = await _pull_all(client, world["ann"].headers, "ann-tablet-1")
    users = {c["row"]["username"] for c in changes if c["table"] == "users" and c["op"] == "put"}
    assert users == {"ann", "rob", "rita"}  # North only; no password hashes on the wire
    assert all("password_hash" not in c["row"] for c in changes if c["table"] == "users")
    regions = {c["row"]["name"] for c in changes if c["table"] == "regions"}
    assert regions == {"North", "South"}


async def test_a_rep_created_later_reaches_the_manager_incrementally(client: Any, world: World) -> None:
    from server.users import create_user

    first = await client.post("/api/sync/pull", json=_pull_body("ann-tablet-2"), headers=world["ann"].headers)
    cursor = first.json()["cursor"]
    while first.json()["more"]:
        first = await client.post(
            "/api/sync/pull", json={**_pull_body("ann-tablet-2"), "cursor": cursor},
            headers=world["ann"].headers,
        )
        cursor = first.json()["cursor"]
    await create_user("nina", "pw", "rep", world.north)
    later = await client.post(
        "/api/sync/pull", json={**_pull_body("ann-tablet-2"), "cursor": cursor},
        headers=world["ann"].headers,
    )
    assert [c["row"]["username"] for c in later.json()["changes"] if c["table"] == "users"] == ["nina"]

"""Admin configuration through HTTP: users, regions, cadence rules and the gift catalog."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.api_data import Book, seed_rows, snapshot
from tests.server.world import PASSWORD, World


@pytest.fixture
async def book(world: World) -> Book:
    return await seed_rows(world)


async def _login(client: Any, username: str, password: str) -> Any:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


# --- users ---------------------------------------------------------------------------------


async def test_admin_creates_user_who_can_log_in(client: Any, world: World) -> None:
    from server.tables import User

    h = world["admin"].headers
    r = await client.post(
        "/api/admin/users",
        json={
            "username": "rex",
            "password": "s3cret-pass",
            "role": "rep",
            "region_id": str(world.south),
            "display_name": "Rex 王",
            "locale": "zh",
            "quiet_start": "22:00",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["role"] == "rep" and user["locale"] == "zh" and user["quiet_start"] == "22:00"
    assert "password" not in user and "password_hash" not in user
    login = await _login(client, "rex", "s3cret-pass")
    assert login.status_code == 200 and login.json()["user"]["display_name"] == "Rex 王"
    row = await User.select(User.seq).where(User.username == "rex").first()
    assert row["seq"] > 0  # a new version for the region's sync bucket
    listed = (
        await client.get(f"/api/admin/users?region_id={world.south}&role=rep", headers=h)
    ).json()
    assert {u["username"] for u in listed["items"]} == {"sue", "rex"}
    # the South manager sees the new rep in the directory; the North manager does not
    south = (await client.get("/api/users?role=rep", headers=world["sam"].headers)).json()
    assert "rex" in {u["username"] for u in south["items"]}
    north = (await client.get("/api/users", headers=world["ann"].headers)).json()
    assert "rex" not in {u["username"] for u in north["items"]}


@pytest.mark.parametrize(
    ("body", "status", "word"),
    [
        ({"username": "rob", "password": "long enough", "role": "admin"}, 409, "username"),
        ({"username": "new", "password": "long enough", "role": "rep"}, 400, "region_id"),
        ({"username": "new", "password": "short", "role": "admin"}, 400, "password"),
        ({"username": "new", "password": "long enough", "role": "boss"}, 400, "role"),
        ({"username": "has space", "password": "long enough", "role": "admin"}, 400, "username"),
        (
            {
                "username": "new",
                "password": "long enough",
                "role": "admin",
                "time_zone": "Mars/Base",
            },
            400,
            "time_zone",
        ),
        (
            {"username": "new", "password": "long enough", "role": "admin", "quiet_end": "25:00"},
            400,
            "quiet_end",
        ),
        (
            {
                "username": "new",
                "password": "long enough",
                "role": "rep",
                "region_id": "00000000-0000-0000-0000-000000000000",
            },
            400,
            "region_id",
        ),
    ],
)
async def test_bad_user_create(
    client: Any, world: World, body: dict[str, Any], status: int, word: str
) -> None:
    before = await snapshot()
    r = await client.post("/api/admin/users", json=body, headers=world["admin"].headers)
    assert r.status_code == status, r.text
    assert word in r.json()["detail"]
    assert await snapshot() == before


async def test_deactivation_revokes_tokens_and_blocks_login(client: Any, world: World) -> None:
    login = (await _login(client, "rita", PASSWORD)).json()
    r = await client.patch(
        f"/api/admin/users/{world['rita'].id}",
        json={"active": False},
        headers=world["admin"].headers,
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await client.get("/api/me", headers=world["rita"].headers)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert refresh.status_code == 401
    assert (await _login(client, "rita", PASSWORD)).status_code == 403


async def test_reset_password_revokes_and_new_password_works(client: Any, world: World) -> None:
    r = await client.post(
        f"/api/admin/users/{world['rob'].id}/password",
        json={"password": "brand new pass"},
        headers=world["admin"].headers,
    )
    assert r.status_code == 204
    assert (await client.get("/api/me", headers=world["rob"].headers)).status_code == 401
    assert (await _login(client, "rob", PASSWORD)).status_code == 401
    assert (await _login(client, "rob", "brand new pass")).status_code == 200


async def test_user_edits(client: Any, world: World, book: Book) -> None:
    h = world["admin"].headers
    r = await client.patch(
        f"/api/admin/users/{world['ann'].id}",
        json={
            "display_name": "Ann Li",
            "time_zone": "Asia/Tokyo",
            "quiet_start": "20:30",
            "locale": "zh",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["time_zone"] == "Asia/Tokyo" and r.json()["display_name"] == "Ann Li"
    me = (await client.get("/api/me", headers=world["ann"].headers)).json()
    assert me["locale"] == "zh"  # the manager's token keeps working after a profile edit
    # a rep who still owns customers cannot be moved away from them silently
    moved = await client.patch(
        f"/api/admin/users/{world['rob'].id}", json={"region_id": str(world.south)}, headers=h
    )
    assert moved.status_code == 409 and moved.json()["code"] == "user_owns_customers"
    # nobody locks themselves out
    self_off = await client.patch(
        f"/api/admin/users/{world['admin'].id}", json={"active": False}, headers=h
    )
    assert self_off.status_code == 400


# --- regions -------------------------------------------------------------------------------


async def test_region_crud(client: Any, world: World, book: Book) -> None:
    h = world["admin"].headers
    r = await client.post(
        "/api/admin/regions", json={"name": "East 华东", "time_zone": "Asia/Shanghai"}, headers=h
    )
    assert r.status_code == 201, r.text
    region = r.json()
    assert (
        await client.post("/api/admin/regions", json={"name": "East 华东"}, headers=h)
    ).status_code == 409
    assert (
        await client.post(
            "/api/admin/regions", json={"name": "West", "time_zone": "Nowhere"}, headers=h
        )
    ).status_code == 400
    renamed = await client.patch(
        f"/api/admin/regions/{region['id']}", json={"name": "East"}, headers=h
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "East"
    names = {
        x["name"] for x in (await client.get("/api/regions", headers=world["rob"].headers)).json()
    }
    assert names == {"North", "South", "East"}
    in_use = await client.delete(f"/api/admin/regions/{world.north}", headers=h)
    assert in_use.status_code == 409 and in_use.json()["code"] == "region_in_use"
    assert (await client.delete(f"/api/admin/regions/{region['id']}", headers=h)).status_code == 204
    assert (await client.get(f"/api/admin/regions/{region['id']}", headers=h)).status_code == 404


# --- cadence rules -------------------------------------------------------------------------


async def test_cadence_rule_crud(client: Any, world: World, book: Book) -> None:
    h = world["admin"].headers
    r = await client.post(
        "/api/admin/cadence-rules",
        json={
            "tier": "A",
            "region_id": str(world.north),
            "stage": "at_risk",
            "interval_days": 7,
            "reminder_lead_days": 0,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    rule = r.json()
    dup = await client.post(
        "/api/admin/cadence-rules",
        json={"tier": "A", "region_id": str(world.north), "stage": "at_risk", "interval_days": 9},
        headers=h,
    )
    assert dup.status_code == 409
    for bad, word in (
        ({"tier": "A", "interval_days": 0}, "interval_days"),
        ({"tier": "A", "interval_days": 5, "reminder_lead_days": -1}, "reminder_lead_days"),
        ({"tier": "D", "interval_days": 5}, "tier"),
        ({"tier": "B", "interval_days": 5, "stage": "gone"}, "stage"),
    ):
        bad_r = await client.post("/api/admin/cadence-rules", json=bad, headers=h)
        assert bad_r.status_code == 400 and word in bad_r.json()["detail"], bad
    edited = await client.patch(
        f"/api/admin/cadence-rules/{rule['id']}", json={"interval_days": 10}, headers=h
    )
    assert edited.status_code == 200 and edited.json()["interval_days"] == 10
    listed = (await client.get("/api/admin/cadence-rules", headers=h)).json()
    assert {x["id"] for x in listed} == {rule["id"], str(book.rule)}
    assert (
        await client.delete(f"/api/admin/cadence-rules/{rule['id']}", headers=h)
    ).status_code == 204
    assert len((await client.get("/api/admin/cadence-rules", headers=h)).json()) == 1


# --- gift catalog --------------------------------------------------------------------------


async def test_gift_item_crud(client: Any, world: World, book: Book) -> None:
    h = world["admin"].headers
    r = await client.post(
        "/api/admin/gift-items",
        json={
            "name_en": "Mooncake box",
            "name_zh": "月饼礼盒",
            "unit_value": "88.5",
            "yearly_cap": "200",
            "currency": "CNY",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert (
        item["unit_value"] == "88.50" and item["yearly_cap"] == "200.00" and item["active"] is True
    )
    for bad, word in (
        ({"unit_value": "-1"}, "unit_value"),
        ({"currency": "rmb"}, "currency"),
        ({"yearly_cap": "NaN"}, "yearly_cap"),
    ):
        body = {"name_en": "X", "name_zh": "X", "unit_value": "1", "yearly_cap": "1", **bad}
        bad_r = await client.post("/api/admin/gift-items", json=body, headers=h)
        assert bad_r.status_code == 400 and word in bad_r.json()["detail"], (bad, bad_r.text)
    off = await client.patch(
        f"/api/admin/gift-items/{item['id']}", json={"active": False}, headers=h
    )
    assert off.status_code == 200 and off.json()["active"] is False
    catalog = (await client.get("/api/gift-items", headers=world["rob"].headers)).json()
    assert item["id"] not in {x["id"] for x in catalog}  # reps see active items only
    assert (
        await client.delete(f"/api/admin/gift-items/{item['id']}", headers=h)
    ).status_code == 204
    assert (await client.get(f"/api/admin/gift-items/{item['id']}", headers=h)).status_code == 404


async def _pull(
    client: Any, headers: dict[str, str], client_id: str, cursor: str | None
) -> dict[str, Any]:
    import time

    body = {
        "protocol": 1,
        "client_id": client_id,
        "clock": f"{int(time.time() * 1000):012x}-0000-{client_id}",
        "cursor": cursor,
        "limit": 2000,
    }
    r = await client.post("/api/sync/pull", json=body, headers=headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["more"] is False
    return page  # type: ignore[no-any-return]


async def test_user_changes_reach_the_managers_devices(client: Any, world: World) -> None:
    """Users sync down to their region's manager: a new rep appears on that manager's
    device, and moving the rep to another region removes it there and adds it here."""
    h = world["admin"].headers
    sam_device = "sam-tablet-0001"
    first = await _pull(client, world["sam"].headers, sam_device, None)
    rex = (
        await client.post(
            "/api/admin/users",
            json={
                "username": "rex",
                "password": "s3cret-pass",
                "role": "rep",
                "region_id": str(world.south),
            },
            headers=h,
        )
    ).json()
    second = await _pull(client, world["sam"].headers, sam_device, first["cursor"])
    assert ("users", rex["id"], "put") in {
        (c["table"], c["id"], c["op"]) for c in second["changes"]
    }
    moved = await client.patch(
        f"/api/admin/users/{rex['id']}", json={"region_id": str(world.north)}, headers=h
    )
    assert moved.status_code == 200, moved.text
    third = await _pull(client, world["sam"].headers, sam_device, second["cursor"])
    assert ("users", rex["id"], "remove") in {
        (c["table"], c["id"], c["op"]) for c in third["changes"]
    }
    ann = await _pull(client, world["ann"].headers, "ann-tablet-0001", None)
    assert rex["id"] in {c["id"] for c in ann["changes"] if c["table"] == "users"}

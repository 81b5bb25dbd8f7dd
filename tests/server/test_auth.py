"""Login, tokens, refresh rotation, logout and revocation, through HTTP."""

from __future__ import annotations

from typing import Any

from tests.server.world import PASSWORD, World


async def test_login_returns_tokens_and_user(client: Any, world: World) -> None:
    response = await client.post("/api/auth/login", json={"username": "rob", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["username"] == "rob"
    assert body["user"]["role"] == "rep"
    assert body["user"]["region_id"] == str(world.north)
    assert "password_hash" not in body["user"]


async def test_me_with_token(client: Any, world: World) -> None:
    response = await client.get("/api/me", headers=world["ann"].headers)
    assert response.status_code == 200
    assert response.json()["role"] == "manager"


async def test_wrong_password_and_unknown_user_look_the_same(client: Any, world: World) -> None:
    a = await client.post("/api/auth/login", json={"username": "rob", "password": "nope"})
    b = await client.post("/api/auth/login", json={"username": "nobody", "password": "nope"})
    assert a.status_code == b.status_code == 401
    assert a.headers["content-type"].startswith("application/problem+json")
    assert a.json()["code"] == b.json()["code"] == "bad_credentials"


async def test_missing_and_garbage_tokens_are_401(client: Any, world: World) -> None:
    assert (await client.get("/api/me")).status_code == 401
    bad = await client.get("/api/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "unauthenticated"


async def test_refresh_rotates_and_old_refresh_token_dies(client: Any, world: World) -> None:
    login = (await client.post("/api/auth/login", json={"username": "rob", "password": PASSWORD})).json()
    first = await client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert first.status_code == 200
    assert first.json()["refresh_token"] != login["refresh_token"]
    again = await client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert again.status_code == 401
    assert again.json()["code"] == "refresh_invalid"
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert me.status_code == 200


async def test_logout_revokes_refresh_token(client: Any, world: World) -> None:
    login = (await client.post("/api/auth/login", json={"username": "rob", "password": PASSWORD})).json()
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    out = await client.post("/api/auth/logout", json={"refresh_token": login["refresh_token"]}, headers=headers)
    assert out.status_code == 204
    again = await client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert again.status_code == 401


async def test_revoke_all_kills_access_tokens(client: Any, world: World) -> None:
    from server.auth.service import revoke_all
    from server.auth.tokens import utcnow

    rob = world["rob"]
    assert (await client.get("/api/me", headers=rob.headers)).status_code == 200
    await revoke_all(rob.id, utcnow())
    response = await client.get("/api/me", headers=rob.headers)
    assert response.status_code == 401


async def test_login_is_rate_limited_with_retry_after(client: Any, world: World, app: Any) -> None:
    from server.ratelimit import WindowLimiter

    app.state.login_limiter = WindowLimiter(3)
    statuses = []
    for _ in range(5):
        r = await client.post("/api/auth/login", json={"username": "rob", "password": "wrong"})
        statuses.append(r.status_code)
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["code"] == "rate_limited"


async def test_bad_login_bodies_are_400_naming_the_field(client: Any) -> None:
    r = await client.post("/api/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = await client.post("/api/auth/login", json={"username": "rob"})
    assert r.status_code == 400
    assert "password" in r.json()["detail"]
    r = await client.post("/api/auth/login", json={"username": "rob", "password": "x", "extra": 1})
    assert r.status_code == 400
    assert "extra" in r.json()["detail"]


async def test_in_process_limiter_counts_per_key_and_window() -> None:
    """SQLite deployments (one process) keep windows in memory; same answers as shared."""
    import pytest as _pytest

    from server.errors import ApiError
    from server.ratelimit import WindowLimiter

    now = [1000.0]
    limiter = WindowLimiter(2, window=60, clock=lambda: now[0], shared=False)
    await limiter.hit("a")
    await limiter.hit("a")
    await limiter.hit("b")
    with _pytest.raises(ApiError) as refused:
        await limiter.hit("a")
    assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "20"
    now[0] += 20  # a new window
    await limiter.hit("a")


async def test_a_nul_character_in_a_username_is_a_client_error(client: Any, world: World) -> None:
    """PostgreSQL text cannot hold U+0000: a lookup with one is the client's error (4xx,
    problem JSON), never a 500, on either database."""
    r = await client.post("/api/auth/login", json={"username": "rob\x00", "password": PASSWORD})
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] in ("validation", "bad_credentials")


async def test_sign_ins_during_a_long_write_wait_for_it_rather_than_fail_busy(
    client: Any, world: World, monkeypatch: Any
) -> None:
    """Many phones signing in at once, while other writes hold the database: each sign-in
    writes its refresh token, and on SQLite that write must queue behind the others in the
    process (the engine queues any write outside a transaction, ``server/db.py``). Outside
    that queue it waited in SQLite's own busy handler, which is unfair, and one of 400
    simultaneous sign-ins got 503 "busy" after its 30 s. Here SQLite's wait is cut to 0.2 s and a write holds the database for 0.6 s;
    then the sign-ins, the logout and the refresh are all answered."""
    import asyncio

    from server import db
    from tests.server.holding import HELD, a_long_write

    first = (await client.post("/api/auth/login", json={"username": "rob", "password": PASSWORD})).json()
    async with a_long_write(monkeypatch, "test-long-write"):
        calls = [
            *(client.post("/api/auth/login", json={"username": name, "password": PASSWORD}) for name in ("rob", "sam")),
            client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]}),
            client.post("/api/auth/logout", json={"refresh_token": first["refresh_token"]},
                        headers={"authorization": f"Bearer {first['access_token']}"}),
        ]
        answers = [asyncio.ensure_future(c) for c in calls]
        await asyncio.sleep(HELD)
        if db.is_sqlite():  # one writer at a time: they wait for the write holding the database
            early = [a.result().status_code for a in answers if a.done()]
            assert early == [], f"answered while another write held the database: {early}"
    statuses = [(await a).status_code for a in answers]
    assert statuses[:2] == [200, 200]
    assert statuses[2] in (200, 401)  # refresh and logout race for the same token; neither is busy
    assert statuses[3] in (200, 204)

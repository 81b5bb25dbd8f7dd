"""The push API through HTTP, and the sender against the faithful local push service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from server.push.payloads import MAX_PAYLOAD_BYTES, reminder_payload
from server.push.vapid import b64url_decode
from tests.push.fake_service import FakePushService
from tests.push.support import subscriptions_of
from tests.server.world import World

NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)


async def test_vapid_public_key_is_public_and_kept_across_restarts(client: Any) -> None:
    from server.push.vapid import load_vapid_keys

    first = await client.get("/api/push/vapid-public-key")
    assert first.status_code == 200
    key = first.json()["public_key"]
    raw = b64url_decode(key)
    assert len(raw) == 65 and raw[0] == 4  # uncompressed P-256 point
    again = await load_vapid_keys()  # what the next process loads at start
    assert again.public_key == key


async def test_subscribe_list_and_delete_own_subscription(
    client: Any, world: World, app: Any, fake_push: FakePushService
) -> None:
    rob = world["rob"]
    sub = fake_push.subscribe(app.state.vapid.public_key)
    created = await client.post("/api/push/subscriptions", json=sub.to_json("phone-1"), headers=rob.headers)
    assert created.status_code == 201, created.text
    assert created.json()["device_id"] == "phone-1"
    mine = (await client.get("/api/push/subscriptions", headers=rob.headers)).json()
    assert [s["endpoint"] for s in mine] == [sub.endpoint]
    # the same browser subscribing again replaces its row (upsert by endpoint)
    again = await client.post("/api/push/subscriptions", json=sub.to_json("phone-1"), headers=rob.headers)
    assert again.status_code == 201
    assert len(await subscriptions_of(rob.id)) == 1
    # someone else cannot delete it
    other = await client.request(
        "DELETE", "/api/push/subscriptions", json={"endpoint": sub.endpoint}, headers=world["rita"].headers
    )
    assert other.status_code == 204
    assert len(await subscriptions_of(rob.id)) == 1
    gone = await client.request(
        "DELETE", "/api/push/subscriptions", json={"endpoint": sub.endpoint}, headers=rob.headers
    )
    assert gone.status_code == 204
    assert await subscriptions_of(rob.id) == []


async def test_endpoint_moves_to_the_user_who_subscribed_last(
    client: Any, world: World, app: Any, fake_push: FakePushService
) -> None:
    sub = fake_push.subscribe(app.state.vapid.public_key)
    await client.post("/api/push/subscriptions", json=sub.to_json(), headers=world["rob"].headers)
    await client.post("/api/push/subscriptions", json=sub.to_json(), headers=world["rita"].headers)
    assert await subscriptions_of(world["rob"].id) == []
    assert len(await subscriptions_of(world["rita"].id)) == 1


async def test_subscription_input_is_validated(
    client: Any, world: World, app: Any, fake_push: FakePushService
) -> None:
    rob = world["rob"]
    good = fake_push.subscribe(app.state.vapid.public_key).to_json()
    cases = [
        ({**good, "endpoint": "ftp://127.0.0.1/push/x"}, "endpoint"),
        ({**good, "endpoint": "http://user:pw@127.0.0.1/push/x"}, "endpoint"),
        ({**good, "keys": {"p256dh": "A" * 87, "auth": good["keys"]["auth"]}}, "p256dh"),
        ({**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "QUFBQUFBQUFBQUFBQUFBQUFB"}}, "auth"),
        ({**good, "extra": 1}, "extra"),
        ({"endpoint": good["endpoint"]}, "keys"),
    ]
    for body, field in cases:
        response = await client.post("/api/push/subscriptions", json=body, headers=rob.headers)
        assert response.status_code == 400, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text
    assert await subscriptions_of(rob.id) == []
    unauth = await client.post("/api/push/subscriptions", json=good)
    assert unauth.status_code == 401
    empty = await client.request("DELETE", "/api/push/subscriptions", json={}, headers=rob.headers)
    assert empty.status_code == 400


async def test_https_only_unless_the_setting_allows_http(world: World) -> None:
    import pytest

    from server.errors import ApiError
    from server.push.subscriptions import check_endpoint

    check_endpoint("https://fcm.googleapis.com/fcm/send/abc", allow_http=False)
    with pytest.raises(ApiError):
        check_endpoint("http://127.0.0.1:9/push/x", allow_http=False)
    check_endpoint("http://127.0.0.1:9/push/x", allow_http=True)


async def test_sender_round_trip_is_decrypted_by_the_browser_keys(
    app: Any, fake_push: FakePushService
) -> None:
    sender = app.state.push_sender
    sub = fake_push.subscribe(app.state.vapid.public_key)
    data = reminder_payload("due", [_item("王记茶庄 Wang's Tea")], "zh-CN")
    result = await sender.send(_row(sub), data, topic="abc123", urgency="normal", now=NOW)
    assert result.outcome == "sent"
    [delivery] = fake_push.accepted(sub)
    assert delivery.payload is not None
    assert delivery.payload["customer_name"] == "王记茶庄 Wang's Tea"
    assert delivery.payload["title"] == "待拜访：王记茶庄 Wang's Tea"
    assert delivery.payload["url"] == f"/customers/{_item('x')['customer_id']}"
    assert int(delivery.headers["ttl"]) > 0
    assert delivery.headers["urgency"] == "normal"
    assert delivery.headers["topic"] == "abc123"
    assert delivery.claims is not None and delivery.claims["sub"].startswith("mailto:")


async def test_claims_are_fresh_per_send_so_two_push_services_both_accept(
    app: Any, fake_push: FakePushService
) -> None:
    """pywebpush writes ``aud`` into the claims dict; reusing it gives 403 at a second service."""
    other = FakePushService().start()
    try:
        sender = app.state.push_sender
        a = fake_push.subscribe(app.state.vapid.public_key)
        b = other.subscribe(app.state.vapid.public_key)
        data = reminder_payload("due", [_item("A")], "en")
        for sub in (a, b, a):
            assert (await sender.send(_row(sub), data, topic="t", now=NOW)).outcome == "sent"
        assert len(fake_push.accepted(a)) == 2 and len(other.accepted(b)) == 1
        assert other.accepted(b)[0].claims["aud"] == other.origin  # type: ignore[index]
    finally:
        other.stop()


async def test_statuses_are_classified(app: Any, fake_push: FakePushService) -> None:
    sender = app.state.push_sender
    data = reminder_payload("due", [_item("A")], "en")
    expected = {410: "gone", 404: "gone", 429: "retry", 500: "retry", 503: "retry", 400: "failed"}
    for status, outcome in expected.items():
        sub = fake_push.subscribe(app.state.vapid.public_key, script=[status])
        result = await sender.send(_row(sub), data, topic="t", now=NOW)
        assert (result.status, result.outcome) == (status, outcome)
    sub = fake_push.subscribe(app.state.vapid.public_key, script=[429])
    assert (await sender.send(_row(sub), data, topic="t", now=NOW)).retry_after == 120
    # a key the subscription was not made with: the service refuses (403), no retry
    stranger = fake_push.subscribe("BOGUS" + app.state.vapid.public_key[5:])
    assert (await sender.send(_row(stranger), data, topic="t", now=NOW)).outcome == "failed"


async def test_payload_never_exceeds_one_record(app: Any, fake_push: FakePushService) -> None:
    items = [_item("客户" * 60 + str(i)) for i in range(200)]
    data = reminder_payload("overdue", items, "zh")
    assert len(data) <= MAX_PAYLOAD_BYTES
    body = msgspec.json.decode(data)
    assert body["count"] == 200 and 0 < len(body["items"]) < 200
    sub = fake_push.subscribe(app.state.vapid.public_key)
    result = await app.state.push_sender.send(_row(sub), data, topic="t", now=NOW)
    assert result.outcome == "sent"
    assert fake_push.accepted(sub)[0].body_size <= 4096


def _item(name: str) -> dict[str, Any]:
    return {
        "customer_id": "0192f0a1-77aa-7c1e-9b1e-1234567890ab",
        "customer_name": name,
        "due_date": "2026-03-10",
        "tier": "A",
        "planned_revisit_id": "0192f0a1-77aa-7c1e-9b1e-0000000000aa",
    }


def _row(sub: Any) -> dict[str, Any]:
    return {"endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth}

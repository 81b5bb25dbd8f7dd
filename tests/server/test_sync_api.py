"""``/api/sync`` over real HTTP: every error code, scope for every role, round trips."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest

from sync.client import Device
from sync.hlc import Clock
from tests.server.sync_http import HttpTransport
from tests.server.world import World

pytestmark = pytest.mark.usefixtures("world")


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def device(world: World, who: str, client: Any) -> tuple[Device, HttpTransport]:
    d = Device(client_id=f"{who}-{uuid.uuid4().hex[:10]}", user=world[who], wall=now_ms)
    return d, HttpTransport(client)


async def post(client: Any, who: Any, endpoint: str, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return await client.post(f"/api/sync/{endpoint}", content=raw,
                             headers={**who.headers, "Content-Type": "application/json"})


def assert_problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status
    assert body["server_time"] and Clock  # R-ERR-1
    assert body["clock"].endswith("-server")
    return body  # type: ignore[no-any-return]


def envelope(client_id: str, clock: Clock, **extra: Any) -> dict[str, Any]:
    return {"protocol": 1, "client_id": client_id, "clock": clock.tick(now_ms()), **extra}


async def test_round_trip_between_two_devices(world: World, client: Any) -> None:
    phone, t = device(world, "rob", client)
    cid = phone.create("customers", {"name": "Golden Tea House", "tier": "A", "phone": "138"})
    phone.create("visits", {"customer_id": cid, "started_at": dt.datetime.now(dt.UTC).isoformat(), "satisfaction": 5})
    phone.create("notes", {"customer_id": cid, "kind": "complaint", "body": "late delivery 送货晚了"})
    await phone.sync(t)
    assert [r.status for _, r in phone.acked.values()] == ["applied"] * 3
    assert phone.last_checksums_ok and cid in phone.rows("customers")
    assert next(iter(phone.rows("notes").values()))["status"] == "open"
    manager, tm = device(world, "ann", client)
    await manager.sync(tm)
    assert cid in manager.rows("customers") and manager.last_checksums_ok
    assert {u["username"] for u in manager.rows("users").values()} >= {"ann", "rob", "rita"}
    # concurrent edits: both kept
    phone.put("customers", cid, {"phone": "139"})
    manager.put("customers", cid, {"phone": "137"})
    await phone.sync(t)
    await manager.sync(tm)
    await phone.sync(t)
    assert phone.rows("customers")[cid]["phone"] == manager.rows("customers")[cid]["phone"]
    conflicts = list(phone.rows("conflicts").values())
    assert len(conflicts) == 1 and conflicts[0]["field"] == "phone"
    assert conflicts[0]["losing_value"] in ("139", "137")


async def test_scope_of_every_role(world: World, client: Any) -> None:
    rob, t = device(world, "rob", client)
    rita, _ = device(world, "rita", client)
    sue, _ = device(world, "sue", client)
    mine = rob.create("customers", {"name": "Rob's"})
    theirs = rita.create("customers", {"name": "Rita's"})
    south = sue.create("customers", {"name": "Sue's"})
    for d in (rob, rita, sue):
        await d.push(t)
    # rob writes into rita's and sue's customers: not found, nothing applied
    rob.create("visits", {"customer_id": theirs, "started_at": "2026-11-25T08:00:00Z"})
    rob.put("customers", south, {"name": "hijack"})
    await rob.push(t)
    codes = [r.code for _, r in list(rob.acked.values())[-2:]]
    assert codes == ["not_found", "not_found"]
    for who, expect in (("rob", {mine}), ("rita", {theirs}), ("sue", {south}), ("ann", {mine, theirs}),
                        ("sam", {south}), ("admin", {mine, theirs, south})):
        d, td = device(world, who, client)
        await d.pull(td)
        assert set(d.rows("customers")) == expect, who
        assert d.last_checksums_ok


async def test_pull_naming_a_foreign_bucket_in_cursor_resyncs(world: World, client: Any) -> None:
    ann, t = device(world, "ann", client)
    await ann.pull(t)
    c = Clock("sam-dev-0001")
    r = await post(client, world["sam"], "pull", envelope("sam-dev-0001", c, cursor=ann.cursor))
    body = assert_problem(r, 409, "resync_required")
    assert body["reason"] in ("buckets", "bad_cursor")


async def test_error_codes(world: World, client: Any) -> None:
    rob = world["rob"]
    c = Clock("rob-dev-0001")
    body = assert_problem(await post(client, rob, "push", {"protocol": 7, "anything": 1}), 400, "protocol_unsupported")
    assert body["supported"] == [1]
    assert_problem(await post(client, rob, "push", b"{oops"), 400, "validation")
    assert_problem(await post(client, rob, "push", envelope("rob-dev-0001", c, mutations=[], bogus=1)), 400, "validation")
    assert_problem(await post(client, rob, "push", envelope("short", c, mutations=[])), 400, "validation")
    ahead = Clock("rob-dev-0001").tick(now_ms() + 3_600_000)
    body = assert_problem(await post(client, rob, "push", {"protocol": 1, "client_id": "rob-dev-0001", "clock": ahead,
                                                           "mutations": []}), 409, "clock_skew")
    assert body["max_ahead_ms"] == 60_000
    gap = {"kind": "create", "n": 5, "hlc": c.tick(now_ms()), "table": "notes", "id": str(uuid.uuid4()), "row": {}}
    body = assert_problem(await post(client, rob, "push", envelope("rob-dev-0001", c, mutations=[gap])), 409, "sequence_gap")
    assert body["expected"] == 1
    many = [{**gap, "n": i} for i in range(1, 502)]
    body = assert_problem(await post(client, rob, "push", envelope("rob-dev-0001", c, mutations=many)), 413, "too_large")
    big = b'{"protocol": 1, "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    assert_problem(await post(client, rob, "push", big), 413, "too_large")
    assert_problem(await post(client, rob, "pull", envelope("rob-dev-0001", c, cursor="garbage!")), 409, "resync_required")
    ok = {"kind": "create", "n": 1, "hlc": c.tick(now_ms()), "table": "notes", "id": str(uuid.uuid4()),
          "row": {"customer_id": str(uuid.uuid4()), "body": "x"}}
    r = await post(client, rob, "push", envelope("rob-dev-0001", c, mutations=[ok]))
    assert r.status_code == 200 and r.json()["results"][0]["code"] == "not_found"
    assert_problem(await post(client, world["rita"], "push", envelope("rob-dev-0001", c, mutations=[])), 409, "client_mismatch")
    v = await client.get("/api/sync/verify", headers=rob.headers)
    assert_problem(v, 400, "protocol_unsupported")
    v = await client.get("/api/sync/verify?protocol=1", headers=rob.headers)
    assert v.status_code == 200 and set(v.json()["buckets"]) == {f"rep:{rob.id}", "global"}
    r = await client.post("/api/sync/pull", content=b"{}")
    assert r.status_code == 401


async def test_replayed_push_returns_stored_results(world: World, client: Any) -> None:
    rob = world["rob"]
    c = Clock("rob-dev-0002")
    cid = str(uuid.uuid4())
    muts = [
        {"kind": "create", "n": 1, "hlc": c.tick(now_ms()), "table": "customers", "id": cid, "row": {"name": "A"}},
        {"kind": "create", "n": 2, "hlc": c.tick(now_ms()), "table": "customers", "id": str(uuid.uuid4()),
         "row": {"name": "B", "tier": "Z"}},
    ]
    first = (await post(client, rob, "push", envelope("rob-dev-0002", c, mutations=muts))).json()
    again = (await post(client, rob, "push", envelope("rob-dev-0002", c, mutations=muts))).json()
    assert [r["status"] for r in first["results"]] == ["applied", "rejected"]
    assert "tier" in first["results"][1]["message"]
    assert [(r["status"], r.get("replayed")) for r in again["results"]] == [("applied", True), ("rejected", True)]
    assert again["last_n"] == 2


async def test_values_a_database_cannot_hold_are_rejected_not_failed(world: World, client: Any) -> None:
    """A NUL character (PostgreSQL text cannot hold one) or an amount wider than its column
    is a rejected mutation naming the field, on either database; the push goes on."""
    rob = world["rob"]
    c = Clock("rob-dev-0003")
    customer = str(uuid.uuid4())
    muts = [
        {"kind": "create", "n": 1, "hlc": c.tick(now_ms()), "table": "customers", "id": str(uuid.uuid4()),
         "row": {"name": "A\x00B"}},
        {"kind": "create", "n": 2, "hlc": c.tick(now_ms()), "table": "customers", "id": customer, "row": {"name": "Li"}},
        {"kind": "create", "n": 3, "hlc": c.tick(now_ms()), "table": "visits", "id": str(uuid.uuid4()),
         "row": {"customer_id": customer, "started_at": "2026-11-25T08:00:00Z", "order_value": "1000000000000"}},
        {"kind": "put", "n": 4, "hlc": c.tick(now_ms()), "table": "customers", "id": customer,
         "fields": {"name": {"value": "Li\x00"}}},
    ]
    r = await post(client, rob, "push", envelope("rob-dev-0003", c, mutations=muts))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "applied", "rejected", "rejected"]
    assert [x.get("code") for x in results] == ["validation", None, "validation", "validation"]
    assert "U+0000" in results[0]["message"] and "order_value" in results[2]["message"]
    d, t = device(world, "rob", client)
    await d.pull(t)
    assert d.live_rows()[("customers", customer)][2]["name"] == "Li"


async def test_pull_pages_are_compressed_as_the_device_accepts(world: World, client: Any) -> None:
    """R-ENC-1: the same page as zstd (Chrome, Firefox), gzip (Safari) or plain."""
    phone, t = device(world, "rob", client)
    for i in range(30):
        phone.create("customers", {"name": f"茶馆 Tea House {i}", "tier": "B", "phone": f"138{i:08d}"})
    await phone.sync(t)
    pages = {}
    for accept in ("gzip, deflate, br, zstd", "gzip, deflate", "identity"):
        body = envelope(f"reader-{uuid.uuid4().hex[:8]}", Clock("reader"), cursor=None, limit=500)
        r = await client.post("/api/sync/pull", content=msgspec.json.encode(body),
                              headers={**world["rob"].headers, "Content-Type": "application/json",
                                       "Accept-Encoding": accept})
        assert r.status_code == 200, r.text
        pages[r.headers.get("content-encoding", "identity")] = (r.json()["changes"], r.num_bytes_downloaded)
    assert set(pages) == {"zstd", "gzip", "identity"}
    assert len(pages["identity"][0]) >= 30
    assert pages["zstd"][0] == pages["gzip"][0] == pages["identity"][0]
    assert pages["zstd"][1] < pages["gzip"][1] < pages["identity"][1]


async def test_paging_while_others_write_ends_with_the_database_state(world: World, client: Any) -> None:
    """A manager's tablet pages through the region two changes at a time while a rep's
    phone keeps writing between the pages: the server reads each next page ahead
    (``sync.readahead``), uses it when nothing was written since, and the tablet ends
    with every row as a fresh device sees it and with matching checksums."""
    from server.sync.service import get_engine

    phone, t = device(world, "rob", client)
    ids = [phone.create("customers", {"name": f"茶馆 {i}", "tier": "B"}) for i in range(12)]
    await phone.sync(t)

    class WritesBetweenPages(HttpTransport):
        pages = 0

        async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
            answer = await super().call(device, endpoint, body)
            if endpoint == "pull":
                self.pages += 1
                if self.pages % 3 == 0:  # every third page, the phone edits a customer
                    phone.put("customers", ids[self.pages % len(ids)], {"phone": f"139{self.pages:08d}"})
                    await phone.sync(t)
            return answer

    engine = get_engine()
    hits = engine.read_ahead.hits
    tablet, tt = device(world, "ann", client)
    paging = WritesBetweenPages(client)
    await tablet.pull(paging, limit=2)
    assert paging.pages > 6 and tablet.last_checksums_ok
    assert engine.read_ahead.hits > hits  # pages with nothing written before them were made ahead
    fresh, tf = device(world, "ann", client)
    await tablet.pull(tt)  # the last edit, if it came after the tablet's last page
    await fresh.pull(tf)
    assert tablet.rows("customers") == fresh.rows("customers")
    assert {c: r["phone"] for c, r in tablet.rows("customers").items() if c in ids} == {
        c: r["phone"] for c, r in phone.rows("customers").items() if c in ids
    }

"""Customer CSV import through HTTP: encodings, per-row report, all-or-nothing, re-import."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import pytest

from server.imports.export import CUSTOMER_COLUMNS
from tests.server.api_data import finalize
from tests.server.world import World

PREVIEW = "/api/import/customers/preview"
APPLY = "/api/import/customers/apply"


def make_csv(rows: Sequence[dict[str, Any]], header: Sequence[str] = CUSTOMER_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


GOOD = [
    {
        "external_id": "ERP-001",
        "name": "上海华联超市",
        "tier": "A",
        "stage": "active",
        "kind": "channel",
        "owner_username": "rob",
        "region": "North",
        "phone": "+86 21 5555 0001",
        "address": "上海市浦东新区世纪大道 100 号",
        "latitude": "31.2304",
        "longitude": "121.4737",
        "key_account": "true",
        "tags": "连锁;vip",
    },
    {
        "external_id": "ERP-002",
        "name": "北京优品贸易有限公司",
        "tier": "b",
        "owner_username": "rita",
    },
    {
        "external_id": "ERP-003",
        "name": "Chen Wei",
        "tier": "C",
        "kind": "consumer",
        "region": "South",
    },
]


@pytest.fixture
async def rule(world: World) -> None:
    from server.tables import CadenceRule

    await CadenceRule.insert(
        CadenceRule(id=uuid4(), tier="A", interval_days=14, region_id=None, stage=None)
    )
    await finalize()


async def _post(client: Any, path: str, data: bytes, world: World, who: str = "admin") -> Any:
    headers = {**world[who].headers, "Content-Type": "text/csv"}
    return await client.post(path, content=data, headers=headers)


async def _customers(client: Any, world: World, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/customers", params={"limit": 200, **params}, headers=world["admin"].headers
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def _pull(client: Any, world: World, who: str) -> dict[str, list[dict[str, Any]]]:
    """Every row a brand-new device of ``who`` ends up with (docs/sync-protocol.md §9),
    applied by id as a device does: the today plan of R-PULL-4 comes again in the feed."""
    import time

    client_id = uuid4().hex
    clock = f"{int(time.time() * 1000):012x}-0000-{client_id}"
    body: dict[str, Any] = {"protocol": 1, "client_id": client_id, "clock": clock, "cursor": None}
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    while True:
        r = await client.post("/api/sync/pull", json=body, headers=world[who].headers)
        assert r.status_code == 200, r.text
        page = r.json()
        for change in page["changes"]:
            if change["row"] is not None:
                rows.setdefault(change["table"], {})[change["id"]] = change["row"]
        if not page["more"]:
            return {table: list(by_id.values()) for table, by_id in rows.items()}
        body["cursor"] = page["cursor"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
async def test_apply_reads_each_encoding_and_reimport_changes_nothing(
    client: Any, world: World, rule: None, encoding: str
) -> None:
    data = make_csv(GOOD).encode(encoding)
    preview = await _post(client, PREVIEW, data, world)
    assert preview.status_code == 200, preview.text
    report = preview.json()
    assert report["encoding"] == encoding
    assert (report["rows"], report["creates"], report["updates"], report["errors"]) == (3, 3, 0, [])
    assert await _customers(client, world) == []  # a preview writes nothing

    applied = await _post(client, APPLY, data, world)
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] is True and applied.json()["creates"] == 3
    found = {c["external_id"]: c for c in await _customers(client, world)}
    assert set(found) == {"ERP-001", "ERP-002", "ERP-003"}
    first = found["ERP-001"]
    assert first["name"] == "上海华联超市"
    assert first["address"] == "上海市浦东新区世纪大道 100 号"
    assert first["owner_id"] == str(world["rob"].id)
    assert first["region_id"] == str(world.north)
    assert first["tags"] == ["连锁", "vip"] and first["key_account"] is True
    assert first["latitude"] == pytest.approx(31.2304, abs=1e-4)
    assert found["ERP-002"]["tier"] == "B" and found["ERP-002"]["stage"] == "prospect"
    assert found["ERP-003"]["owner_id"] is None and found["ERP-003"]["region_id"] == str(
        world.south
    )

    # the imported tier-A customer got its first cadence plan from the planning hooks
    plans = await client.get(
        "/api/planned-revisits",
        params={"customer_id": first["id"]},
        headers=world["admin"].headers,
    )
    assert plans.json()["total"] == 1

    # rob sees his new customer through the API and his device receives it and its plan
    rob = (await client.get("/api/customers", headers=world["rob"].headers)).json()
    assert [c["external_id"] for c in rob["items"]] == ["ERP-001"]
    pulled = await _pull(client, world, "rob")
    assert [r["external_id"] for r in pulled["customers"]] == ["ERP-001"]
    assert [r["customer_id"] for r in pulled["planned_revisits"]] == [first["id"]]

    again = await _post(client, APPLY, data, world)
    assert again.status_code == 200
    body = again.json()
    assert (body["creates"], body["updates"], body["unchanged"]) == (0, 0, 3)
    assert {c["id"] for c in await _customers(client, world)} == {c["id"] for c in found.values()}


async def test_bad_rows_are_reported_and_nothing_is_applied(client: Any, world: World) -> None:
    rows = [
        *GOOD,
        {"external_id": "ERP-004", "name": "", "tier": "Z", "owner_username": "rob"},
        {"external_id": "ERP-005", "name": "Ghost", "tier": "A", "owner_username": "nobody"},
        {
            "external_id": "ERP-006",
            "name": "Far",
            "tier": "A",
            "region": "North",
            "latitude": "200",
            "longitude": "10",
        },
        {"external_id": "ERP-001", "name": "Again", "tier": "A", "owner_username": "rob"},
        {
            "external_id": "ERP-007",
            "name": "Mixed",
            "tier": "A",
            "owner_username": "rob",
            "region": "South",
        },
        {"external_id": "ERP-008", "name": "Nowhere", "tier": "A"},
    ]
    data = make_csv(rows).encode("utf-8-sig")
    preview = (await _post(client, PREVIEW, data, world)).json()
    assert preview["rows"] == 9 and preview["creates"] == 3 and preview["invalid_rows"] == 6
    issues = {(e["row"], e["column"]) for e in preview["errors"]}
    assert issues == {
        (5, "name"),
        (5, "tier"),
        (6, "owner_username"),
        (7, "latitude"),
        (8, "external_id"),
        (9, "region"),
        (10, "region"),
    }
    refused = await _post(client, APPLY, data, world)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "invalid_rows"
    assert refused.json()["report"]["invalid_rows"] == 6
    assert await _customers(client, world) == []


async def test_reimport_updates_changed_fields_by_external_id(client: Any, world: World) -> None:
    assert (await _post(client, APPLY, make_csv(GOOD).encode(), world)).status_code == 200
    before = {c["external_id"]: c for c in await _customers(client, world)}
    edited = [dict(r) for r in GOOD]
    edited[0]["phone"] = "+86 21 5555 9999"
    edited[0]["owner_username"] = "rita"  # a reassignment within North
    edited[1]["stage"] = "contacted"
    edited[1]["tags"] = "新店;north"
    edited[1]["latitude"], edited[1]["longitude"] = "39.9042", "116.4074"
    r = await _post(client, APPLY, make_csv(edited).encode(), world)
    assert r.status_code == 200, r.text
    assert (r.json()["creates"], r.json()["updates"], r.json()["unchanged"]) == (0, 2, 1)
    after = {c["external_id"]: c for c in await _customers(client, world)}
    assert after["ERP-001"]["id"] == before["ERP-001"]["id"]
    assert after["ERP-001"]["phone"] == "+86 21 5555 9999"
    assert after["ERP-001"]["owner_id"] == str(world["rita"].id)
    assert after["ERP-002"]["stage"] == "contacted"
    assert after["ERP-002"]["tags"] == ["新店", "north"]
    assert after["ERP-002"]["longitude"] == pytest.approx(116.4074, abs=1e-4)
    assert after["ERP-003"] == before["ERP-003"]
    rob = (await client.get("/api/customers", headers=world["rob"].headers)).json()
    assert rob["total"] == 0


async def test_exported_file_imports_back_unchanged(client: Any, world: World) -> None:
    assert (await _post(client, APPLY, make_csv(GOOD).encode("gbk"), world)).status_code == 200
    exported = await client.get("/api/export/customers.csv", headers=world["admin"].headers)
    report = (await _post(client, PREVIEW, exported.content, world)).json()
    assert report["encoding"] == "utf-8-sig"
    assert (report["creates"], report["updates"], report["unchanged"]) == (0, 0, 3)
    assert report["errors"] == [] and report["ignored_columns"] == []


async def test_limits_and_roles(client: Any, world: World) -> None:
    data = make_csv(GOOD).encode()
    for who in ("rob", "ann"):
        assert (await _post(client, APPLY, data, world, who)).status_code == 403
    big = data + b"x" * (5 * 1024 * 1024)
    r = await _post(client, PREVIEW, big, world)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    r = await _post(client, PREVIEW, b"\xff\xfe\xff\xff", world)
    assert r.status_code == 400
    r = await _post(client, PREVIEW, b"", world)
    assert r.status_code == 400
    r = await _post(client, PREVIEW, b'external_id,name\r\n"' + b"x" * 200_000 + b'"\r\n', world)
    assert r.status_code == 400 and "field limit" in r.json()["detail"]
    nul = (await _post(client, PREVIEW, b"external_id,name,tier\r\nX\x00,N,A\r\n", world)).json()
    assert nul["errors"] == [
        {"row": 2, "column": "external_id", "message": "contains a NUL character"}
    ]
    missing = (await _post(client, PREVIEW, b"name,tier\r\nX,A\r\n", world)).json()
    assert missing["errors"] == [
        {"row": 1, "column": "external_id", "message": "required column is missing"}
    ]


async def test_ten_thousand_rows(client: Any, world: World) -> None:
    rows = [
        {
            "external_id": f"BULK-{i:05d}",
            "name": f"客户 {i}",
            "tier": "ABC"[i % 3],
            "owner_username": ("rob", "rita", "sue")[i % 3],
            "phone": f"1380000{i:05d}",
        }
        for i in range(10_000)
    ]
    data = make_csv(rows).encode("gbk")
    r = await _post(client, APPLY, data, world)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["creates"] == 10_000
    page = await client.get("/api/customers?limit=1", headers=world["admin"].headers)
    assert page.json()["total"] == 10_000
    rob = await client.get("/api/customers?limit=1", headers=world["rob"].headers)
    assert rob.json()["total"] == 3334
    again = (await _post(client, APPLY, data, world)).json()
    assert (again["creates"], again["updates"], again["unchanged"]) == (0, 0, 10_000)

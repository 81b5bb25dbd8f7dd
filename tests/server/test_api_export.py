"""CSV export through HTTP: Excel-ready bytes, parsed back, and the caller's scope only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.server.api_data import Book, seed_rows
from tests.server.world import World


@pytest.fixture
async def book(world: World) -> Book:
    return await seed_rows(world)


async def _csv(client: Any, path: str, who: str, world: World) -> list[dict[str, str]]:
    r = await client.get(path, headers=world[who].headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = r.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_customers_csv_by_scope(client: Any, world: World, book: Book) -> None:
    rob = await _csv(client, "/api/export/customers.csv", "rob", world)
    assert [row["id"] for row in rob] == [str(book.customer["rob"])]
    row = rob[0]
    assert row["name"] == "Rob Trading 贸易"
    assert row["owner_username"] == "rob" and row["region"] == "North"
    assert row["tier"] == "A" and row["stage"] == "active" and row["tags"] == "vip"
    assert row["phone"] == "'+86 139 rob"  # a leading + would be a formula in Excel
    ann = await _csv(client, "/api/export/customers.csv", "ann", world)
    assert {r["id"] for r in ann} == {str(book.customer["rob"]), str(book.customer["rita"])}
    admin = await _csv(client, "/api/export/customers.csv", "admin", world)
    assert len(admin) == 3
    sam = await _csv(client, "/api/export/customers.csv", "sam", world)
    assert [r["id"] for r in sam] == [str(book.customer["sue"])]


async def test_visits_and_gifts_csv_by_scope(client: Any, world: World, book: Book) -> None:
    visits = await _csv(client, "/api/export/visits.csv", "rob", world)
    assert [v["id"] for v in visits] == [str(book.of["rob"].visit)]
    assert visits[0]["rep_username"] == "rob"
    assert visits[0]["order_value"] == "1000.00" and visits[0]["satisfaction"] == "4"
    assert visits[0]["customer_name"] == "Rob Trading 贸易"
    gifts = await _csv(client, "/api/export/gifts.csv", "rob", world)
    assert [g["id"] for g in gifts] == [str(book.of["rob"].gift)]
    assert gifts[0]["item_zh"] == "茶具" and gifts[0]["total_value"] == "120.00"
    ann_gifts = await _csv(client, "/api/export/gifts.csv", "ann", world)
    assert {g["id"] for g in ann_gifts} == {str(book.of["rob"].gift), str(book.of["rita"].gift)}
    admin_visits = await _csv(client, "/api/export/visits.csv", "admin", world)
    assert len(admin_visits) == 3


async def test_export_needs_a_token(client: Any, world: World) -> None:
    r = await client.get("/api/export/customers.csv")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")

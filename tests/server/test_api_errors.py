"""Bad input of each kind: a clear 4xx problem-details answer and no change in the database."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.api_data import Book, seed_rows, snapshot
from tests.server.world import World


@pytest.fixture
async def book(world: World) -> Book:
    return await seed_rows(world)


def _problem(response: Any, status: int, *mentions: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] and body["title"]
    for word in mentions:
        assert word in body["detail"], (word, body)
    return body  # type: ignore[no-any-return]


BAD_CUSTOMER_BODIES = [
    pytest.param(b"{", "", id="malformed JSON"),
    pytest.param(b"[]", "", id="not an object"),
    pytest.param(b'{"tier": "A"}', "name", id="missing field"),
    pytest.param(b'{"name": 5, "tier": "A"}', "name", id="wrong type"),
    pytest.param(b'{"name": "X", "tier": "Z"}', "tier", id="unknown enum value"),
    pytest.param(b'{"name": "X", "tier": "A", "colour": "red"}', "colour", id="unknown field"),
    pytest.param(b'{"name": "", "tier": "A"}', "name", id="too short"),
    pytest.param(b'{"name": "X", "tier": "A", "latitude": 91}', "latitude", id="out of range"),
    pytest.param(b'{"name": "X", "tier": "A", "tags": "vip"}', "tags", id="tags not a list"),
]


@pytest.mark.parametrize(("raw", "field"), BAD_CUSTOMER_BODIES)
async def test_bad_customer_create_is_400_and_changes_nothing(
    client: Any, world: World, book: Book, raw: bytes, field: str
) -> None:
    before = await snapshot()
    r = await client.post(
        "/api/customers",
        content=raw,
        headers={**world["rob"].headers, "Content-Type": "application/json"},
    )
    body = _problem(r, 400, field)
    assert body["code"] == "validation"
    assert await snapshot() == before


BAD_RECORDS = [
    pytest.param(
        "/api/visits", {"started_at": "2026-11-24T09:30:00"}, "started_at", id="naive datetime"
    ),
    pytest.param(
        "/api/visits",
        {"started_at": "2026-11-24T09:30:00Z", "satisfaction": 6},
        "satisfaction",
        id="satisfaction 6",
    ),
    pytest.param(
        "/api/visits",
        {"started_at": "2026-11-24T09:30:00Z", "order_value": "-1"},
        "order_value",
        id="negative order",
    ),
    pytest.param(
        "/api/visits",
        {"started_at": "2026-11-24T09:30:00Z", "currency": "yuan"},
        "currency",
        id="bad currency",
    ),
    pytest.param(
        "/api/visits",
        {"started_at": "2026-11-24T09:30:00Z", "ended_at": "2026-11-24T08:00:00Z"},
        "ended_at",
        id="ends before start",
    ),
    pytest.param("/api/gifts", {"quantity": 0}, "quantity", id="gift quantity 0"),
    pytest.param(
        "/api/gifts",
        {"item_id": "00000000-0000-0000-0000-000000000000"},
        "item_id",
        id="unknown item",
    ),
    pytest.param("/api/notes", {"kind": "rant", "body": "x"}, "kind", id="note kind"),
    pytest.param("/api/notes", {"body": ""}, "body", id="empty note"),
    pytest.param(
        "/api/notes", {"body": "x", "status": "open"}, "status", id="status on a plain note"
    ),
    pytest.param("/api/planned-revisits", {"due_date": "tomorrow"}, "due_date", id="bad date"),
]


@pytest.mark.parametrize(("path", "extra", "field"), BAD_RECORDS)
async def test_bad_record_is_400_naming_the_field(
    client: Any, world: World, book: Book, path: str, extra: dict[str, Any], field: str
) -> None:
    body: dict[str, Any] = {"customer_id": str(book.customer["rob"])}
    if path == "/api/gifts":
        body["item_id"] = str(book.item)
    if path == "/api/notes":
        body["body"] = "hello"
    body.update(extra)
    before = await snapshot()
    r = await client.post(path, json=body, headers=world["rob"].headers)
    _problem(r, 400, field)
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("offset=-1", "offset"),
        ("tier=Z", "tier"),
        ("overdue=maybe", "overdue"),
        ("owner_id=nope", "owner_id"),
        ("q=" + "x" * 101, "q"),
    ],
)
async def test_bad_query_is_400_naming_the_parameter(
    client: Any, world: World, query: str, field: str
) -> None:
    r = await client.get(f"/api/customers?{query}", headers=world["admin"].headers)
    _problem(r, 400, field)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/customers", {"name": "a\u0000b", "tier": "A"}, "name"),
        ("POST", "/api/notes", {"body": "nul \u0000 here"}, "body"),
        ("GET", "/api/customers?q=%00", None, "q"),
        ("GET", "/api/visits?since=2026-11-01T00:00:00", None, "since"),
        ("GET", "/api/gifts?until=2026-11-01T00:00:00", None, "until"),
    ],
)
async def test_text_and_time_traps_are_400(
    client: Any, world: World, book: Book, method: str, path: str, body: Any, field: str
) -> None:
    """Inputs that a database would refuse late (NUL in text, naive instants) are refused
    up front, on SQLite and PostgreSQL alike."""
    if body is not None and path == "/api/notes":
        body["customer_id"] = str(book.customer["rob"])
    before = await snapshot()
    r = await client.request(method, path, json=body, headers=world["rob"].headers)
    _problem(r, 400, field)
    assert await snapshot() == before


async def test_body_over_the_limit_is_413_and_changes_nothing(
    client: Any, world: World, book: Book, settings: Any
) -> None:
    before = await snapshot()
    big = b'{"customer_id": "%s", "body": "' % str(book.customer["rob"]).encode()
    big += b"x" * (settings.max_body_bytes + 10) + b'"}'
    r = await client.post(
        "/api/notes",
        content=big,
        headers={**world["rob"].headers, "Content-Type": "application/json"},
    )
    _problem(r, 413)
    assert await snapshot() == before


async def test_empty_patch_and_unknown_patch_field_are_400(
    client: Any, world: World, book: Book
) -> None:
    path = f"/api/customers/{book.customer['rob']}"
    before = await snapshot()
    _problem(await client.patch(path, json={}, headers=world["rob"].headers), 400, "no field")
    _problem(
        await client.patch(
            path, json={"owner_id": str(world["rita"].id)}, headers=world["rob"].headers
        ),
        400,
        "owner_id",
    )
    _problem(
        await client.patch(path, json={"stage": "dead"}, headers=world["rob"].headers), 400, "stage"
    )
    assert await snapshot() == before


async def test_not_a_uuid_in_the_path_is_a_4xx_problem(client: Any, world: World) -> None:
    r = await client.get("/api/customers/not-a-uuid", headers=world["rob"].headers)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_unknown_api_path_and_wrong_method(client: Any, world: World, book: Book) -> None:
    r = await client.get("/api/nothing-here", headers=world["rob"].headers)
    _problem(r, 404)
    r = await client.put(
        f"/api/customers/{book.customer['rob']}", json={}, headers=world["rob"].headers
    )
    _problem(r, 405)

"""Customers through HTTP: search, filters, paging, detail, create, edit, archive."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.api_data import Book, seed_rows
from tests.server.world import World


@pytest.fixture
async def book(world: World) -> Book:
    return await seed_rows(world)


async def test_rep_lists_only_own_customers(client: Any, world: World, book: Book) -> None:
    r = await client.get("/api/customers", headers=world["rob"].headers)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1
    assert [c["id"] for c in body["items"]] == [str(book.customer["rob"])]
    assert body["items"][0]["tags"] == ["vip"]


async def test_manager_lists_region_admin_lists_all(client: Any, world: World, book: Book) -> None:
    ann = (await client.get("/api/customers", headers=world["ann"].headers)).json()
    assert {c["id"] for c in ann["items"]} == {
        str(book.customer["rob"]),
        str(book.customer["rita"]),
    }
    admin = (await client.get("/api/customers", headers=world["admin"].headers)).json()
    assert admin["total"] == 3


async def test_detail_has_timeline_contacts_and_next_visit(
    client: Any, world: World, book: Book
) -> None:
    r = await client.get(f"/api/customers/{book.customer['rob']}", headers=world["rob"].headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer"]["name"].startswith("Rob Trading")
    assert [c["id"] for c in body["contacts"]] == [str(book.of["rob"].contact)]
    assert {e["type"] for e in body["timeline"]} == {"visit", "gift", "note"}
    assert body["next_planned"]["id"] == str(book.of["rob"].plan)
    assert body["customer"]["overdue"] is True
    assert body["owner_name"] == "Rob"


async def test_out_of_scope_customer_is_404(client: Any, world: World, book: Book) -> None:
    for who, whose in [("rob", "rita"), ("rob", "sue"), ("ann", "sue"), ("sam", "rob")]:
        r = await client.get(f"/api/customers/{book.customer[whose]}", headers=world[who].headers)
        assert r.status_code == 404, (who, whose)
        assert r.json()["code"] == "not_found"


async def test_search_and_filters(client: Any, world: World, book: Book) -> None:
    h = world["admin"].headers
    assert (await client.get("/api/customers?q=rita", headers=h)).json()["total"] == 1
    assert (await client.get("/api/customers?q=贸易", headers=h)).json()["total"] == 3
    assert (await client.get("/api/customers?q=139%20sue", headers=h)).json()["total"] == 1
    assert (await client.get("/api/customers?q=%25", headers=h)).json()["total"] == 0
    assert (await client.get("/api/customers?tier=B", headers=h)).json()["total"] == 0
    assert (await client.get("/api/customers?tier=A&stage=active", headers=h)).json()["total"] == 3
    assert (await client.get(f"/api/customers?owner_id={world['sue'].id}", headers=h)).json()[
        "total"
    ] == 1
    assert (await client.get("/api/customers?overdue=true", headers=h)).json()["total"] == 3
    assert (await client.get("/api/customers?overdue=false", headers=h)).json()["total"] == 0
    assert (await client.get("/api/customers?archived=true", headers=h)).json()["total"] == 0


async def test_paging_is_bounded(client: Any, world: World, book: Book) -> None:
    h = world["admin"].headers
    page = (await client.get("/api/customers?limit=2&offset=1", headers=h)).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["offset"] == 1
    for bad in ("limit=0", "limit=201", "offset=-1", "limit=x", "tier=Z", "overdue=maybe"):
        r = await client.get(f"/api/customers?{bad}", headers=h)
        assert r.status_code == 400, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        assert bad.split("=")[0] in r.json()["detail"], r.json()


# --- writes --------------------------------------------------------------------------------


async def test_rep_creates_own_customer(client: Any, world: World) -> None:
    r = await client.post(
        "/api/customers",
        json={"name": "华联超市", "tier": "B", "phone": "021-555", "tags": ["retail"]},
        headers=world["rob"].headers,
    )
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["owner_id"] == str(world["rob"].id) and c["region_id"] == str(world.north)
    assert c["tags"] == ["retail"] and c["stage"] == "prospect"
    assert (
        await client.get(f"/api/customers/{c['id']}", headers=world["ann"].headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/customers/{c['id']}", headers=world["rita"].headers)
    ).status_code == 404


async def test_rep_cannot_create_for_someone_else(client: Any, world: World) -> None:
    r = await client.post(
        "/api/customers",
        json={"name": "X", "tier": "B", "owner_id": str(world["rita"].id)},
        headers=world["rob"].headers,
    )
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"


async def test_manager_places_customer_within_region(client: Any, world: World) -> None:
    h = world["ann"].headers
    r = await client.post(
        "/api/customers",
        json={"name": "X", "tier": "A", "owner_id": str(world["rita"].id)},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["owner_id"] == str(world["rita"].id) and r.json()["region_id"] == str(
        world.north
    )
    unassigned = await client.post("/api/customers", json={"name": "Y", "tier": "C"}, headers=h)
    assert unassigned.status_code == 201 and unassigned.json()["owner_id"] is None
    assert unassigned.json()["region_id"] == str(world.north)
    other = await client.post(
        "/api/customers",
        json={"name": "Z", "tier": "A", "owner_id": str(world["sue"].id)},
        headers=h,
    )
    assert other.status_code == 400 and other.json()["code"] == "invalid_owner"


async def test_patch_profile_and_archive(client: Any, world: World, book: Book) -> None:
    from server.tables import Customer

    h = world["rob"].headers
    path = f"/api/customers/{book.customer['rob']}"
    r = await client.patch(
        path, json={"stage": "at_risk", "tier": "B", "latitude": None}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "at_risk" and r.json()["tier"] == "B"
    row = (
        await Customer.select(Customer.seq, Customer.clocks)
        .where(Customer.id == book.customer["rob"])
        .first()
    )
    assert row["seq"] > 0 and "stage" in row["clocks"]
    archived = await client.patch(path, json={"archived": True}, headers=h)
    assert archived.json()["archived"] is True
    assert (await client.get("/api/customers", headers=h)).json()["total"] == 0
    assert (await client.get("/api/customers?archived=true", headers=h)).json()["total"] == 1


async def test_duplicate_external_id_is_409(client: Any, world: World) -> None:
    h = world["admin"].headers
    body = {"name": "A", "tier": "A", "external_id": "ERP-1", "region_id": str(world.north)}
    assert (await client.post("/api/customers", json=body, headers=h)).status_code == 201
    again = await client.post("/api/customers", json={**body, "name": "B"}, headers=h)
    assert again.status_code == 409 and "external_id" in again.json()["detail"]


# --- reassignment --------------------------------------------------------------------------


async def test_manager_reassigns_customer_with_all_records(
    client: Any, world: World, book: Book
) -> None:
    from server.tables import Contact, Gift, Note, PlannedRevisit, Visit

    cid = book.customer["rob"]
    r = await client.post(
        f"/api/customers/{cid}/reassign",
        json={"to_rep_id": str(world["rita"].id)},
        headers=world["ann"].headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["moved"] == [str(cid)]
    assert (
        await client.get(f"/api/customers/{cid}", headers=world["rob"].headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/visits/{book.of['rob'].visit}", headers=world["rob"].headers)
    ).status_code == 404
    detail = (await client.get(f"/api/customers/{cid}", headers=world["rita"].headers)).json()
    assert detail["customer"]["owner_id"] == str(world["rita"].id)
    assert len(detail["timeline"]) == 3 and len(detail["contacts"]) == 1
    for table in (Contact, Visit, Gift, Note, PlannedRevisit):
        owners = {
            r["owner_id"]
            for r in await table.select(table.owner_id).where(table.customer_id == cid)
        }
        assert owners == {world["rita"].id}, table
    plan = (
        await PlannedRevisit.select(PlannedRevisit.rep_id)
        .where(PlannedRevisit.customer_id == cid)
        .first()
    )
    assert plan["rep_id"] == world["rita"].id


async def test_reassign_only_to_a_rep_of_the_region(client: Any, world: World, book: Book) -> None:
    """A manager only within the region, and only to a rep; an admin to any active rep
    (cross-region moves: test_admin_moves_a_customer_to_a_rep_of_another_region)."""
    from tests.server.api_data import snapshot

    before = await snapshot()
    cid = book.customer["rob"]
    for target in (world["sue"].id, world["ann"].id):
        r = await client.post(
            f"/api/customers/{cid}/reassign",
            json={"to_rep_id": str(target)},
            headers=world["ann"].headers,
        )
        assert r.status_code == 400 and r.json()["code"] == "invalid_target", r.text
    r = await client.post(
        f"/api/customers/{cid}/reassign",
        json={"to_rep_id": str(world["sam"].id)},
        headers=world["admin"].headers,
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_target"
    assert await snapshot() == before


async def test_bulk_reassign_is_all_or_nothing(client: Any, world: World, book: Book) -> None:
    from tests.server.api_data import seed_customer, snapshot

    second = await seed_customer(world["rob"], book.item, name="Second")
    before = await snapshot()
    bad = {
        "customer_ids": [str(book.customer["rob"]), str(book.customer["sue"])],
        "to_rep_id": str(world["rita"].id),
    }
    r = await client.post("/api/customers/reassign", json=bad, headers=world["ann"].headers)
    assert r.status_code == 404
    assert await snapshot() == before
    good = {
        "customer_ids": [str(book.customer["rob"]), str(second.customer)],
        "to_rep_id": str(world["rita"].id),
    }
    r = await client.post("/api/customers/reassign", json=good, headers=world["ann"].headers)
    assert r.status_code == 200, r.text
    mine = (await client.get("/api/customers", headers=world["rita"].headers)).json()
    assert mine["total"] == 3
    assert (await client.get("/api/customers", headers=world["rob"].headers)).json()["total"] == 0


async def test_admin_moves_a_customer_to_a_rep_of_another_region(client: Any, world: Any) -> None:
    """R-CMD-1: the customer and its records move to the target rep's region."""
    created = await client.post(
        "/api/customers", json={"name": "Moving Co", "tier": "B"}, headers=world["rob"].headers
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    moved = await client.post(
        f"/api/customers/{customer_id}/reassign",
        json={"to_rep_id": str(world["sue"].id)},
        headers=world["admin"].headers,
    )
    assert moved.status_code == 200, moved.text
    from server.tables import Customer

    detail = await client.get(f"/api/customers/{customer_id}", headers=world["sue"].headers)
    assert detail.status_code == 200
    row = await Customer.select(Customer.region_id, Customer.owner_id).where(Customer.id == customer_id).first()
    assert row == {"region_id": world.south, "owner_id": world["sue"].id}
    gone = await client.get(f"/api/customers/{customer_id}", headers=world["rob"].headers)
    assert gone.status_code == 404
    manager = await client.post(
        f"/api/customers/{customer_id}/reassign",
        json={"to_rep_id": str(world["rob"].id)},
        headers=world["sam"].headers,
    )
    assert manager.status_code == 400  # a manager cannot send it to another region

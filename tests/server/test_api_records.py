"""Contacts, visits, gifts, notes and planned revisits through HTTP (writes go through
the sync engine, so each write is also visible to sync)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.api_data import Book, seed_rows
from tests.server.world import World


@pytest.fixture
async def book(world: World) -> Book:
    return await seed_rows(world)


async def _seq_of(table: Any, row_id: Any) -> int:
    row = await table.select(table.seq).where(table.id == row_id).first()
    return int(row["seq"])


# --- contacts ------------------------------------------------------------------------------


async def test_contact_lifecycle(client: Any, world: World, book: Book) -> None:
    from server.tables import Contact

    h = world["rob"].headers
    cid = book.customer["rob"]
    created = await client.post(
        f"/api/customers/{cid}/contacts",
        json={"name": "王芳", "title": "采购", "phone": "138"},
        headers=h,
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["customer_id"] == str(cid) and contact["name"] == "王芳"
    assert await _seq_of(Contact, contact["id"]) > 0  # written through the sync engine
    listed = (await client.get(f"/api/customers/{cid}/contacts", headers=h)).json()
    assert contact["id"] in {c["id"] for c in listed}
    patched = await client.patch(
        f"/api/contacts/{contact['id']}", json={"title": "总经理"}, headers=h
    )
    assert patched.status_code == 200 and patched.json()["title"] == "总经理"
    assert patched.json()["phone"] == "138"
    assert (await client.delete(f"/api/contacts/{contact['id']}", headers=h)).status_code == 204
    assert (await client.get(f"/api/contacts/{contact['id']}", headers=h)).status_code == 404
    listed = (await client.get(f"/api/customers/{cid}/contacts", headers=h)).json()
    assert contact["id"] not in {c["id"] for c in listed}
    row = await Contact.select(Contact.deleted).where(Contact.id == contact["id"]).first()
    assert row["deleted"] is True  # a tombstone, not a hard delete


async def test_create_with_client_id_is_idempotent(client: Any, world: World, book: Book) -> None:
    h = world["rob"].headers
    body = {"id": "0192f0a1-77aa-7c1e-9b1e-1234567890ab", "name": "Li"}
    first = await client.post(
        f"/api/customers/{book.customer['rob']}/contacts", json=body, headers=h
    )
    again = await client.post(
        f"/api/customers/{book.customer['rob']}/contacts", json=body, headers=h
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    listed = (await client.get(f"/api/customers/{book.customer['rob']}/contacts", headers=h)).json()
    assert [c["id"] for c in listed].count(body["id"]) == 1


# --- visits --------------------------------------------------------------------------------


async def test_visit_create_list_and_delete(client: Any, world: World, book: Book) -> None:
    h = world["rob"].headers
    cid = str(book.customer["rob"])
    body = {
        "customer_id": cid,
        "started_at": "2026-11-24T09:30:00+08:00",
        "ended_at": "2026-11-24T10:00:00+08:00",
        "purpose": "demo",
        "outcome": "good talk",
        "satisfaction": 5,
        "order_value": "1234.5",
        "latitude": 31.2,
        "longitude": 121.5,
    }
    r = await client.post("/api/visits", json=body, headers=h)
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["rep_id"] == str(world["rob"].id)
    assert visit["order_value"] == "1234.50"
    assert visit["started_at"].startswith("2026-11-24T01:30:00")
    mine = (await client.get(f"/api/visits?customer_id={cid}", headers=h)).json()
    assert mine["total"] == 2 and mine["items"][0]["id"] == visit["id"]  # newest first
    per_customer = (await client.get(f"/api/customers/{cid}/visits", headers=h)).json()
    assert per_customer["total"] == 2
    detail = (await client.get(f"/api/customers/{cid}", headers=h)).json()
    visits = [e for e in detail["timeline"] if e["type"] == "visit"]
    assert visits[0]["id"] == visit["id"] and visits[0]["satisfaction"] == 5
    assert (await client.delete(f"/api/visits/{visit['id']}", headers=h)).status_code == 204
    assert (await client.get(f"/api/visits?customer_id={cid}", headers=h)).json()["total"] == 1


async def test_visit_lists_are_scoped(client: Any, world: World, book: Book) -> None:
    assert (await client.get("/api/visits", headers=world["rob"].headers)).json()["total"] == 1
    assert (await client.get("/api/visits", headers=world["ann"].headers)).json()["total"] == 2
    assert (await client.get("/api/visits", headers=world["sam"].headers)).json()["total"] == 1
    assert (await client.get("/api/visits", headers=world["admin"].headers)).json()["total"] == 3
    # filtering by another rep's customer shows nothing, not their data
    r = await client.get(
        f"/api/visits?customer_id={book.customer['sue']}", headers=world["rob"].headers
    )
    assert r.json()["total"] == 0


# --- gifts ---------------------------------------------------------------------------------


async def test_gift_over_the_yearly_cap_is_kept_and_flagged(
    client: Any, world: World, book: Book
) -> None:
    """Cap 300 a year; 120 given already. +120 = 240 (fine), +120 = 360 (over: kept, flagged)."""
    h = world["rob"].headers
    gift = {
        "customer_id": str(book.customer["rob"]),
        "item_id": str(book.item),
        "given_at": "2026-11-24T09:40:00+08:00",
    }
    first = await client.post("/api/gifts", json=gift, headers=h)
    assert first.status_code == 201, first.text
    assert first.json()["over_cap"] is False and first.json()["unit_value"] == "120.00"
    second = await client.post("/api/gifts", json=gift, headers=h)
    assert second.status_code == 201
    flagged = second.json()
    assert flagged["over_cap"] is True and flagged["review_status"] == "pending"
    assert flagged["value"] == "120.00"
    # next calendar year starts again from zero
    next_year = await client.post(
        "/api/gifts", json={**gift, "given_at": "2027-01-02T10:00:00+08:00"}, headers=h
    )
    assert next_year.json()["over_cap"] is False
    queue = (
        await client.get(
            "/api/gifts?over_cap=true&review_status=pending", headers=world["ann"].headers
        )
    ).json()
    assert [g["id"] for g in queue["items"]] == [flagged["id"]]
    # reps do not review; the region's manager approves with a comment
    assert (
        await client.patch(
            f"/api/gifts/{flagged['id']}", json={"review_status": "approved"}, headers=h
        )
    ).status_code == 403
    approved = await client.patch(
        f"/api/gifts/{flagged['id']}",
        json={"review_status": "approved", "review_comment": "annual gala"},
        headers=world["ann"].headers,
    )
    assert approved.status_code == 200, approved.text
    assert (
        approved.json()["review_status"] == "approved"
        and approved.json()["review_comment"] == "annual gala"
    )


async def test_gift_delete_is_a_tombstone(client: Any, world: World, book: Book) -> None:
    h = world["rob"].headers
    gift_id = book.of["rob"].gift
    assert (await client.delete(f"/api/gifts/{gift_id}", headers=h)).status_code == 204
    assert (await client.get(f"/api/gifts/{gift_id}", headers=h)).status_code == 404
    assert (await client.get("/api/gifts", headers=h)).json()["total"] == 0


# --- notes ---------------------------------------------------------------------------------


async def test_complaint_opens_and_resolves(client: Any, world: World, book: Book) -> None:
    h = world["rob"].headers
    r = await client.post(
        "/api/notes",
        json={"customer_id": str(book.customer["rob"]), "kind": "complaint", "body": "发货太慢"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["status"] == "open" and note["resolved_at"] is None
    assert note["author_id"] == str(world["rob"].id)
    open_queue = (
        await client.get("/api/notes?kind=complaint&status=open", headers=world["ann"].headers)
    ).json()
    assert note["id"] in {n["id"] for n in open_queue["items"]}
    resolved = await client.patch(
        f"/api/notes/{note['id']}", json={"status": "resolved"}, headers=world["ann"].headers
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    reopened = await client.patch(f"/api/notes/{note['id']}", json={"status": "open"}, headers=h)
    assert reopened.json()["status"] == "open" and reopened.json()["resolved_at"] is None


async def test_plain_note_has_no_status(client: Any, world: World, book: Book) -> None:
    h = world["rob"].headers
    note = (
        await client.post(
            "/api/notes",
            json={"customer_id": str(book.customer["rob"]), "body": "likes tea"},
            headers=h,
        )
    ).json()
    assert note["kind"] == "note" and note["status"] is None
    r = await client.patch(f"/api/notes/{note['id']}", json={"status": "resolved"}, headers=h)
    assert r.status_code == 400 and "status" in r.json()["detail"]


# --- planned revisits ----------------------------------------------------------------------


async def test_plans_list_create_and_move(client: Any, world: World, book: Book) -> None:
    h = world["rob"].headers
    listed = (await client.get("/api/planned-revisits?status=planned", headers=h)).json()
    assert [p["id"] for p in listed["items"]] == [str(book.of["rob"].plan)]
    assert listed["items"][0]["overdue"] is True and listed["items"][0]["tier"] == "A"
    due = (await client.get("/api/planned-revisits?due_before=2026-11-01", headers=h)).json()
    assert due["total"] == 0
    r = await client.post(
        "/api/planned-revisits",
        json={"customer_id": str(book.customer["rob"]), "due_date": "2026-12-01"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["source"] == "manual" and plan["status"] == "planned"
    assert plan["rep_id"] == str(world["rob"].id)
    # the manual date wins: the cadence plan beside it is cancelled (docs/scheduling.md)
    listed = (await client.get("/api/planned-revisits?status=planned", headers=h)).json()
    assert [p["id"] for p in listed["items"]] == [plan["id"]]
    old = (await client.get(f"/api/planned-revisits/{book.of['rob'].plan}", headers=h)).json()
    assert old["status"] == "cancelled"
    moved = await client.patch(
        f"/api/planned-revisits/{plan['id']}", json={"due_date": "2026-12-05"}, headers=h
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["due_date"] == "2026-12-05" and moved.json()["source"] == "manual"
    done = await client.patch(
        f"/api/planned-revisits/{plan['id']}", json={"status": "done"}, headers=world["ann"].headers
    )
    assert done.json()["status"] == "done"
    assert (await client.get("/api/planned-revisits?status=planned", headers=h)).json()["total"] == 0


async def test_moving_a_plan_makes_it_manual(client: Any, world: World, book: Book) -> None:
    h = world["rita"].headers
    plan = book.of["rita"].plan
    moved = await client.patch(f"/api/planned-revisits/{plan}", json={"due_date": "2026-12-05"}, headers=h)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["due_date"], moved.json()["source"], moved.json()["status"]) == (
        "2026-12-05", "manual", "planned")
    listed = (await client.get("/api/planned-revisits?status=planned", headers=h)).json()
    assert [p["id"] for p in listed["items"]] == [str(plan)]


async def test_manual_plan_for_a_rep_of_another_region_is_refused(
    client: Any, world: World, book: Book
) -> None:
    r = await client.post(
        "/api/planned-revisits",
        json={
            "customer_id": str(book.customer["rob"]),
            "due_date": "2026-12-01",
            "rep_id": str(world["sue"].id),
        },
        headers=world["ann"].headers,
    )
    assert r.status_code == 400 and "rep_id" in r.json()["detail"]


# --- one write path ------------------------------------------------------------------------


async def _pull_all(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    import time
    from uuid import uuid4

    client_id = uuid4().hex
    body: dict[str, Any] = {
        "protocol": 1,
        "client_id": client_id,
        "clock": f"{int(time.time() * 1000):012x}-0000-{client_id}",
        "cursor": None,
    }
    changes: list[dict[str, Any]] = []
    while True:
        r = await client.post("/api/sync/pull", json=body, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        changes += page["changes"]
        if not page["more"]:
            return changes
        body["cursor"] = page["cursor"]


async def test_rest_writes_reach_devices_through_sync(
    client: Any, world: World, book: Book
) -> None:
    """A visit logged and a contact deleted over REST arrive at the rep's and the manager's
    devices; the other region's manager never sees them."""
    h = world["rob"].headers
    visit = (
        await client.post(
            "/api/visits",
            json={"customer_id": str(book.customer["rob"]), "started_at": "2026-11-24T09:30:00Z"},
            headers=h,
        )
    ).json()
    contact = (
        await client.post(
            f"/api/customers/{book.customer['rob']}/contacts", json={"name": "Temp"}, headers=h
        )
    ).json()
    await client.delete(f"/api/contacts/{contact['id']}", headers=h)
    for who in ("rob", "ann"):
        seen = {(c["table"], c["id"]): c["op"] for c in await _pull_all(client, world[who].headers)}
        assert ("visits", visit["id"]) in seen, who
        assert seen.get(("contacts", contact["id"])) in (None, "delete"), who
    theirs = {c["id"] for c in await _pull_all(client, world["sam"].headers)}
    assert visit["id"] not in theirs


# --- conflicts -----------------------------------------------------------------------------


async def test_restore_and_dismiss_conflicts(client: Any, world: World, book: Book) -> None:
    from tests.server.api_data import seed_customer

    h = world["rob"].headers
    listed = (await client.get("/api/conflicts?status=open", headers=h)).json()
    conflict = listed["items"][0]
    assert listed["total"] == 1 and conflict["losing_value"] == "+86 000 lost"
    assert conflict["winning_value"] == "+86 139 rob" and conflict["field"] == "phone"
    r = await client.post(f"/api/conflicts/{conflict['id']}/restore", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "restored"
    customer = (await client.get(f"/api/customers/{book.customer['rob']}", headers=h)).json()
    assert customer["customer"]["phone"] == "+86 000 lost"
    again = await client.post(f"/api/conflicts/{conflict['id']}/restore", headers=h)
    assert again.status_code == 409
    other = await seed_customer(world["rob"], book.item, name="Other")
    dismissed = await client.post(
        f"/api/conflicts/{other.conflict}/dismiss", headers=world["ann"].headers
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    kept = (await client.get(f"/api/customers/{other.customer}", headers=h)).json()
    assert kept["customer"]["phone"] == "+86 139 rob"
    assert (await client.get("/api/conflicts?status=open", headers=h)).json()["total"] == 0


async def test_a_refused_restore_changes_nothing(client: Any, world: World, book: Book) -> None:
    """A rep may not write a gift's review fields, so restoring such a conflict is refused
    and the conflict stays open: the two puts of a restore stand or fall together."""
    from server.tables import Conflict
    from tests.server.api_data import LOSING_CLOCK, WINNING_CLOCK, finalize, snapshot

    rob = world["rob"]
    conflict_id = (
        await Conflict.insert(
            Conflict(
                tbl="gifts",
                row_id=book.of["rob"].gift,
                field="review_comment",
                losing_value='"fine by me"',
                losing_clock=LOSING_CLOCK,
                losing_author=rob.id,
                winning_value='""',
                winning_clock=WINNING_CLOCK,
                customer_id=book.customer["rob"],
                owner_id=rob.id,
                region_id=rob.region_id,
            )
        ).returning(Conflict.id)
    )[0]["id"]
    await finalize()
    before = await snapshot()
    r = await client.post(f"/api/conflicts/{conflict_id}/restore", headers=rob.headers)
    assert r.status_code == 403, r.text
    assert await snapshot() == before
    ok = await client.post(f"/api/conflicts/{conflict_id}/restore", headers=world["ann"].headers)
    assert ok.status_code == 200 and ok.json()["status"] == "restored"
    gift = (await client.get(f"/api/gifts/{book.of['rob'].gift}", headers=rob.headers)).json()
    assert gift["review_comment"] == "fine by me"

"""The rep's PWA in Debian's Chromium against the real server (issue 4, "How it is checked")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.pages import ApiUser, App, english_ui_strings

pytestmark = pytest.mark.e2e

REP = "li.wei"  # East China rep (server/demo.py)
MANAGER = "xu.ming"  # East China manager


def test_starts_offline_from_the_cache_after_the_first_load(phone: Any) -> None:
    app = App(phone.new_page()).login(REP)
    app.wait_for_service_worker()
    phone.set_offline(True)
    app.page.reload()
    app.page.get_by_test_id("today-screen").wait_for()
    app.page.get_by_test_id("offline-banner").wait_for()
    # a deep link works offline too (navigation fallback to the precached shell)
    app.page.goto("/settings")
    app.page.get_by_test_id("settings-screen").wait_for()
    assert app.page.evaluate("navigator.onLine") is False


def test_offline_visit_with_gift_and_note_survives_reload_and_syncs_once(
    phone: Any, demo_server: Any
) -> None:
    app = App(phone.new_page()).login(REP)
    app.wait_for_service_worker()
    app.wait_for_first_sync()
    customer_id = app.first_customer_id()

    phone.set_offline(True)
    # a half-filled visit survives a reload as a draft
    app.open_customer(customer_id)
    app.page.get_by_test_id("log-visit").click()
    app.page.get_by_test_id("visit-outcome").fill("Draft outcome")
    app.page.get_by_test_id("add-gift").click()
    app.page.get_by_test_id("gift-qty").fill("9999")
    app.page.get_by_test_id("cap-warning").wait_for()  # warned before saving, not refused
    app.page.wait_for_timeout(300)
    app.page.reload()
    app.page.get_by_test_id("draft-restored").wait_for()
    assert app.page.get_by_test_id("visit-outcome").input_value() == "Draft outcome"
    app.page.get_by_test_id("discard-draft").click()

    visit_id = app.log_visit(
        customer_id,
        outcome="Offline order",
        satisfaction=4,
        order_value="120",
        gift=True,
        notes="logged without network",
    )
    app.quick_note(customer_id, "Asked for a price list")
    pending = app.settled_unsynced()
    assert pending >= 3  # visit, gift, note (+ the plan that follows the visit)

    app.page.reload()
    app.open_customer(customer_id)
    visit = app.page.locator(f"[data-testid=timeline-visit][data-id='{visit_id}']")
    visit.wait_for()
    assert visit.get_by_test_id("pending-mark").count() == 1
    assert app.page.get_by_test_id("timeline-gift").count() >= 1
    app.page.get_by_text("Asked for a price list").wait_for()
    assert app.settled_unsynced() == pending  # nothing lost, nothing added by the reload

    phone.set_offline(False)
    app.page.evaluate("dispatchEvent(new Event('online'))")
    app.wait_synced()
    assert visit.get_by_test_id("pending-mark").count() == 0

    api = ApiUser(demo_server.url, REP)
    try:
        visits = api.get(f"/api/customers/{customer_id}/visits")
        items = visits["items"] if isinstance(visits, dict) else visits
        assert [v["id"] for v in items].count(visit_id) == 1
        assert api.get(f"/api/visits/{visit_id}")["outcome"] == "Offline order"
    finally:
        api.close()


def test_the_next_visit_date_the_rep_chooses_is_the_one_plan_on_phone_and_server(
    phone: Any, demo_server: Any
) -> None:
    app = App(phone.new_page()).login(REP)
    app.wait_for_service_worker()
    app.wait_for_first_sync()
    customer_id = app.first_customer_id()
    chosen = app.page.evaluate(  # later than any tier's cadence, so the two cannot be confused
        "() => new Date(Date.now() + 200 * 86400000).toISOString().slice(0, 10)"
    )
    app.log_visit(customer_id, outcome="Chose a date", satisfaction=5, order_value="0", gift=False,
                  next_visit=chosen)
    app.sync_now()
    app.page.reload()
    assert app.open_customer(customer_id).get_by_test_id("next-visit").get_attribute("data-due") == chosen

    api = ApiUser(demo_server.url, REP)
    try:
        plans = api.get("/api/planned-revisits", customer_id=customer_id, status="planned")
        assert [(p["due_date"], p["source"]) for p in plans["items"]] == [(chosen, "manual")]
    finally:
        api.close()


def test_two_devices_edit_the_same_field_offline_and_the_loser_can_be_restored(
    phone: Any, tablet: Any
) -> None:
    rep = App(phone.new_page()).login(REP)
    manager = App(tablet.new_page()).login(MANAGER)
    for app in (rep, manager):
        app.wait_for_service_worker()
        app.wait_for_first_sync()
    customer_id = rep.first_customer_id()
    manager.open_customer(customer_id)

    phone.set_offline(True)
    tablet.set_offline(True)
    rep.edit_phone(customer_id, "+86 111 REP")
    manager.edit_phone(customer_id, "+86 222 MGR")
    phone.set_offline(False)
    rep.sync_now()
    tablet.set_offline(False)
    manager.sync_now()
    rep.sync_now()

    final = rep.phone_of(customer_id)
    assert final == manager.phone_of(customer_id)
    assert final in ("+86 111 REP", "+86 222 MGR")
    loser = "+86 222 MGR" if final == "+86 111 REP" else "+86 111 REP"

    for app in (rep, manager):
        app.go("/sync")
        conflict = app.page.locator(
            f"[data-testid=conflict-item][data-row-id='{customer_id}'][data-field=phone]"
        )
        conflict.wait_for()
        assert loser in conflict.get_by_test_id("conflict-losing").inner_text()

    manager.page.locator(
        f"[data-testid=conflict-item][data-row-id='{customer_id}']"
    ).get_by_test_id("conflict-restore").click()
    manager.sync_now()
    rep.sync_now()
    assert rep.phone_of(customer_id) == loser
    assert manager.phone_of(customer_id) == loser


SCREENS = ["/", "/customers", "/sync", "/settings"]


def _visible_text(app: App, customer_id: str) -> dict[str, str]:
    texts = {}
    for path in [
        *SCREENS,
        f"/customers/{customer_id}",
        f"/customers/{customer_id}/visit",
        f"/customers/{customer_id}/note",
    ]:
        app.go(path)
        app.page.wait_for_timeout(300)
        # UI text only: what users typed or imported (names, notes, phones) is marked data-content
        texts[path] = app.page.evaluate(
            """() => { const b = document.body.cloneNode(true);
                       b.querySelectorAll('[data-content]').forEach((e) => e.remove());
                       document.documentElement.appendChild(b); const text = b.innerText; b.remove();
                       return text; }"""
        )
    return texts


def test_switching_to_chinese_changes_every_visible_string(phone: Any) -> None:
    app = App(phone.new_page()).login(REP)
    app.wait_for_first_sync()
    app.set_language("en")
    customer_id = app.first_customer_id()
    fragments = english_ui_strings()
    english = _visible_text(app, customer_id)
    seen = {f for text in english.values() for f in fragments if f in text}
    assert len(seen) > 20  # the English screens really show English UI strings

    app.set_language("zh-CN")
    chinese = _visible_text(app, customer_id)
    left = {path: [f for f in fragments if f in text] for path, text in chinese.items()}
    assert {p: f for p, f in left.items() if f} == {}
    assert app.page.evaluate("document.documentElement.lang") == "zh-CN"
    app.go(f"/customers/{customer_id}/visit")
    app.page.get_by_test_id("discard-draft").click()  # leave no draft behind


def test_screenshots_of_the_main_screens_at_phone_size(phone: Any) -> None:
    app = App(phone.new_page()).login(REP)
    app.wait_for_first_sync()
    app.set_language("en")
    customer_id = app.first_customer_id()
    shots = []
    for name, path, testid in [
        ("today", "/", "today-screen"),
        ("customers", "/customers", "customers-screen"),
        ("customer", f"/customers/{customer_id}", "customer-detail"),
        ("visit", f"/customers/{customer_id}/visit", "visit-form"),
        ("sync", "/sync", "sync-screen"),
        ("settings", "/settings", "settings-screen"),
    ]:
        app.go(path)
        app.page.get_by_test_id(testid).wait_for()
        app.page.wait_for_timeout(300)
        shots.append(app.screenshot(f"phone-{name}"))
    app.set_language("zh-CN")
    app.go("/")
    app.page.get_by_test_id("today-screen").wait_for()
    shots.append(app.screenshot("phone-today-zh"))
    assert all(p.stat().st_size > 5_000 for p in shots)

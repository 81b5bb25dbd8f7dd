"""The manager on a tablet (issue 6): the dashboard agrees with the server, and a
reassignment moves a customer from one rep's device to another's through sync."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.pages import ApiUser, App

pytestmark = pytest.mark.e2e

MANAGER = "xu.ming"
FROM_REP = "zhang.min"  # East China reps not used by the other browser tests
TO_REP = "liu.yang"


def test_dashboard_counts_match_the_server(tablet: Any, demo_server: Any) -> None:
    manager = App(tablet.new_page()).login(MANAGER)
    manager.wait_for_first_sync()
    manager.set_language("en")
    manager.go("/dashboard")
    manager.page.get_by_test_id("rep-table").wait_for()
    api_manager = ApiUser(demo_server.url, MANAGER)
    try:
        for username in (FROM_REP, TO_REP):
            rep = ApiUser(demo_server.url, username)
            try:
                me = rep.get("/api/me")
                total = rep.get("/api/customers/", limit=1)["total"]
            finally:
                rep.close()
            row = manager.page.locator(f"[data-testid=rep-row][data-rep-id='{me['id']}']")
            assert int(row.get_by_test_id("rep-owned").inner_text().replace(",", "")) == total
    finally:
        api_manager.close()
    manager.page.get_by_test_id("coverage-chart").wait_for()
    assert "%" in manager.page.get_by_test_id("pareto-share").inner_text()


def test_reassignment_moves_a_customer_between_rep_devices(
    browser: Any, tablet: Any, demo_server: Any
) -> None:
    phones = [
        browser.new_context(
            viewport={"width": 390, "height": 844},
            base_url=demo_server.url,
            service_workers="allow",
        )
        for _ in range(2)
    ]
    try:
        old_rep = App(phones[0].new_page()).login(FROM_REP)
        new_rep = App(phones[1].new_page()).login(TO_REP)
        manager = App(tablet.new_page()).login(MANAGER)
        for app in (old_rep, new_rep, manager):
            app.wait_for_first_sync()
        customer_id = old_rep.first_customer_id()
        new_rep.go(f"/customers/{customer_id}")
        new_rep.page.get_by_test_id("customer-missing").wait_for()

        manager.open_customer(customer_id)
        target = manager.page.locator(f"[data-testid=reassign-to] option[data-username='{TO_REP}']")
        manager.page.get_by_test_id("reassign-to").select_option(target.get_attribute("value"))
        manager.page.get_by_test_id("reassign-submit").click()
        manager.page.get_by_test_id("reassign-queued").wait_for()
        manager.sync_now()
        assert manager.page.locator("[data-testid=rejected-item]").count() == 0

        old_rep.sync_now()
        old_rep.go(f"/customers/{customer_id}")
        old_rep.page.get_by_test_id("customer-missing").wait_for()
        new_rep.sync_now()
        new_rep.open_customer(customer_id)
        new_rep.page.get_by_test_id("customer-name").wait_for()
        assert (
            new_rep.page.get_by_test_id("timeline").locator("li").count() > 0
        )  # its history moved too
    finally:
        for context in phones:
            context.close()


def test_admin_creates_and_deactivates_a_user(tablet: Any, demo_server: Any) -> None:
    import uuid

    import httpx

    admin = App(tablet.new_page()).login("admin")
    admin.wait_for_first_sync()
    admin.set_language("en")
    admin.go("/admin")
    section = admin.page.get_by_test_id("admin-users")
    section.locator("[data-testid=user-row]").first.wait_for()
    username = f"e2e.{uuid.uuid4().hex[:8]}"
    section.get_by_label("Username", exact=True).fill(username)
    section.get_by_label("Password", exact=True).fill("a-new-password")
    region = (
        section.get_by_label("Region", exact=True).locator("option").nth(1).get_attribute("value")
    )
    section.get_by_label("Region", exact=True).select_option(region)
    section.get_by_role("button", name="Add", exact=True).first.click()
    row = section.locator(f"[data-testid=user-row][data-username='{username}']")
    row.wait_for()
    login = {"username": username, "password": "a-new-password"}
    assert httpx.post(f"{demo_server.url}/api/auth/login", json=login).status_code == 200

    row.get_by_test_id("user-active").click()
    row.get_by_role("button", name="Reactivate").wait_for()
    assert httpx.post(f"{demo_server.url}/api/auth/login", json=login).status_code in (401, 403)


def test_a_new_cadence_rule_changes_the_plans_a_rep_device_shows(
    browser: Any, tablet: Any, demo_server: Any
) -> None:
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=demo_server.url, service_workers="allow"
    )
    admin = App(tablet.new_page()).login("admin")
    rep = App(phone.new_page()).login("sun.li")
    try:
        for app in (admin, rep):
            app.wait_for_first_sync()
            app.set_language("en")
        customer_id = _customer_on_cadence(demo_server.url, "sun.li", tier="A")
        before = rep.open_customer(customer_id).get_by_test_id("next-visit").inner_text()

        admin.go("/admin")
        interval = admin.page.locator(
            "[data-testid=rule-row][data-tier=A][data-scoped='0'] [data-testid=rule-interval]"
        )
        old = interval.input_value()
        new = "3" if old != "3" else "4"
        interval.fill(new)
        admin.page.get_by_test_id("rules-preview").wait_for()
        admin.page.get_by_test_id("rules-save").click()
        admin.sync_now()

        rep.sync_now()
        after = rep.open_customer(customer_id).get_by_test_id("next-visit").inner_text()
        assert after != before

        admin.go("/admin")  # put the demo rule back for the other tests
        interval.fill(old)
        admin.page.get_by_test_id("rules-save").click()
        admin.sync_now()
    finally:
        phone.close()


def _customer_on_cadence(url: str, username: str, *, tier: str) -> str:
    """A customer of the rep whose open plan follows the cadence (a manual date, such as the
    demo's visits moved to today, is not moved by a rule change)."""
    api = ApiUser(url, username)
    try:
        plans = api.get("/api/planned-revisits/", status="planned", limit=200)["items"]
        customers = {c["id"]: c for c in api.get("/api/customers/", tier=tier, limit=200)["items"]}
    finally:
        api.close()
    return next(
        p["customer_id"] for p in plans
        if p["source"] == "cadence" and p["customer_id"] in customers
        and customers[p["customer_id"]]["stage"] != "lost"
    )

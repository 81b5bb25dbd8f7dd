"""Service-worker paths in Chromium: push reminders, subscribing, Background Sync.

Headless Chromium cannot subscribe to a real push service (LIBRARY-NOTES §5), so the
subscription is stubbed in the page and the push message is delivered through CDP."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest

from tests.e2e.pages import ApiUser, App

pytestmark = pytest.mark.e2e

REP = "li.wei"


def _registration_id(cdp: Any, page: Any) -> str:
    found: dict[str, str] = {}
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: found.update({r["scopeURL"]: r["registrationId"] for r in e["registrations"]}),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(500)
    origin = page.evaluate("() => location.origin")
    return found[f"{origin}/"]


def test_a_push_reminder_is_shown_in_the_users_language(phone: Any) -> None:
    app = App(phone.new_page()).login(REP)
    app.wait_for_service_worker()
    app.set_language("zh-CN")
    phone.grant_permissions(["notifications"])
    cdp = phone.new_cdp_session(app.page)
    reg = _registration_id(cdp, app.page)
    payload = {
        "v": 1,
        "kind": "overdue",
        "count": 1,
        "customer_id": "0190a1b2-0000-7000-8000-000000000001",
        "customer_name": "华美超市",
        "due_date": "2026-11-20",
        "tier": "A",
    }
    origin = app.page.evaluate("() => location.origin")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": reg, "data": json.dumps(payload)},
    )
    shown = None
    for _ in range(50):
        shown = app.page.evaluate(
            """async () => { const r = await navigator.serviceWorker.ready;
                             const n = await r.getNotifications();
                             return n.length ? {title: n[0].title, body: n[0].body, data: n[0].data} : null; }"""
        )
        if shown:
            break
        app.page.wait_for_timeout(200)
    assert shown is not None, "no notification was shown"
    assert shown["title"] == "已逾期：华美超市"
    assert "A 级" in shown["body"]
    assert shown["data"]["url"] == f"/customers/{payload['customer_id']}"

    # A click on the notification opens that customer in the app. Headless Chromium has
    # no notification UI to click, so the service worker receives the same event a
    # click produces, for the notification it is showing.
    app.page.goto("/")
    [worker] = phone.service_workers
    worker.evaluate(
        """async () => {
             const [n] = await self.registration.getNotifications();
             self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n }));
           }"""
    )
    app.page.wait_for_url(f"**/customers/{payload['customer_id']}", timeout=15_000)


STUB_PUSH = """
(() => {
  const endpoint = 'https://push.invalid/e2e-' + Math.random().toString(36).slice(2);
  const sub = {
    endpoint, expirationTime: null, options: { userVisibleOnly: true, applicationServerKey: null },
    toJSON() { return { endpoint, keys: { p256dh: '__P256DH__', auth: '__AUTH__' } }; },
    unsubscribe() { current = null; return Promise.resolve(true); },
    getKey() { return null; },
  };
  let current = null;
  PushManager.prototype.subscribe = function () { current = sub; return Promise.resolve(sub); };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
"""


def _browser_keys() -> tuple[str, str]:
    """What a browser's push subscription carries: a P-256 public key and a 16-byte secret."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    return b64(point), b64(os.urandom(16))


def test_turning_reminders_on_registers_this_devices_subscription(
    phone: Any, demo_server: Any
) -> None:
    p256dh, auth = _browser_keys()
    phone.add_init_script(STUB_PUSH.replace("__P256DH__", p256dh).replace("__AUTH__", auth))
    phone.grant_permissions(["notifications"])
    app = App(phone.new_page()).login(REP)
    app.wait_for_service_worker()
    app.set_language("en")
    app.page.get_by_test_id("notifications-on").click()
    app.page.wait_for_function(
        "() => document.querySelector('[data-testid=notifications-on]')?.getAttribute('aria-checked') === 'true'"
    )
    assert app.page.get_by_test_id("push-error").count() == 0
    api = ApiUser(demo_server.url, REP)
    try:
        subs = api.get("/api/push/subscriptions")
        items = subs["items"] if isinstance(subs, dict) else subs
        assert any(s["endpoint"].startswith("https://push.invalid/e2e-") for s in items)
    finally:
        api.close()


def test_background_sync_flushes_the_outbox_without_the_page(phone: Any, demo_server: Any) -> None:
    app = App(phone.new_page()).login(REP)
    app.wait_for_service_worker()
    app.wait_for_first_sync()
    customer_id = app.first_customer_id()
    phone.set_offline(True)
    app.quick_note(customer_id, "Written offline, sent by the service worker")
    note_id = app.page.get_by_test_id("timeline-note").first.get_attribute("data-id")
    assert app.unsynced() >= 1
    # a write made offline is handed to Background Sync at once
    app.page.wait_for_function(
        "async () => (await (await navigator.serviceWorker.getRegistration()).sync.getTags())"
        ".includes('revisit-sync')"
    )

    blank = phone.new_page()  # keep the context alive while the app page goes away
    app.page.close()
    phone.set_offline(False)
    cdp = phone.new_cdp_session(blank)
    blank.goto(f"{demo_server.url}/sw.js")  # same origin, not the app: no page-side sync
    reg = _registration_id(cdp, blank)
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": demo_server.url,
            "registrationId": reg,
            "tag": "revisit-sync",
            "lastChance": False,
        },
    )

    api = ApiUser(demo_server.url, REP)
    try:
        for _ in range(100):
            notes = api.client.get(f"/api/notes/{note_id}")
            if notes.status_code == 200:
                break
            blank.wait_for_timeout(200)
        assert notes.status_code == 200, notes.text
        assert notes.json()["body"] == "Written offline, sent by the service worker"
    finally:
        api.close()

"""A new deployment updates the installed app, but only once the outbox is drained."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DIST
from tests.e2e.pages import App
from tests.live import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_deployment(demo_server: LiveServer, tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """A second server process on the same database serving its own copy of the build."""
    dist = tmp_path / "dist"
    shutil.copytree(DIST, dist)
    server = LiveServer(demo_server.database_url, tmp_path, static_dir=dist)
    with server:
        yield server, dist


def _deploy_new_version(dist: Path) -> None:
    sw = dist / "sw.js"
    sw.write_text(sw.read_text(encoding="utf-8") + "\n// deployed again\n", encoding="utf-8")


def test_update_waits_for_the_outbox_then_applies_itself(browser: Any, own_deployment: Any) -> None:
    server, dist = own_deployment
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=server.url, service_workers="allow"
    )
    try:
        app = App(context.new_page()).login("wang.fang")
        app.wait_for_service_worker()
        app.wait_for_first_sync()
        app.set_language("en")
        customer_id = app.first_customer_id()

        # the server is unreachable for sync for a while (answers 503 at once)
        context.route(
            "**/api/sync/**",
            lambda route: route.fulfill(
                status=503,
                content_type="application/problem+json",
                body='{"status":503,"title":"Service Unavailable","detail":"down","code":"unavailable"}',
            ),
        )
        app.quick_note(customer_id, "Before the update")
        assert app.settled_unsynced() >= 1
        app.page.evaluate("() => { window.__before_update = true; }")

        _deploy_new_version(dist)
        app.page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
        app.page.get_by_test_id("update-banner").wait_for()
        app.page.wait_for_function(
            "() => navigator.serviceWorker.getRegistration().then(r => !!r.waiting)"
        )
        app.page.wait_for_timeout(1000)
        assert app.page.evaluate("() => window.__before_update === true")  # not reloaded yet

        context.unroute("**/api/sync/**")
        app.go("/sync")
        app.page.get_by_test_id("sync-now").click()
        app.wait_synced()
        # the outbox drains, the new worker takes over and the page reloads itself
        app.page.wait_for_function("() => window.__before_update === undefined", timeout=60_000)
        app.page.get_by_test_id("today-screen").or_(
            app.page.get_by_test_id("sync-screen")
        ).wait_for()
        assert app.page.evaluate(
            "async () => { const r = await navigator.serviceWorker.getRegistration(); return !r.waiting && !!r.active; }"
        )
        assert app.unsynced() == 0
    finally:
        context.close()

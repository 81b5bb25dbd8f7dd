"""Page objects for the PWA: what a rep does, in the words of the screens (data-testid)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.live import ROOT

PASSWORD = "revisit-demo"  # server/demo.py DEMO_PASSWORD


class App:
    """One browser page of the PWA."""

    def __init__(self, page: Any) -> None:
        self.page = page

    # --- session ----------------------------------------------------------------------

    def login(self, username: str, password: str = PASSWORD) -> App:
        self.page.goto("/")
        self.page.get_by_test_id("login-username").fill(username)
        self.page.get_by_test_id("login-password").fill(password)
        self.page.get_by_test_id("login-submit").click()
        self.page.get_by_test_id("today-screen").wait_for()
        return self

    def wait_for_service_worker(self) -> None:
        """The SW is installed, active and controls this page (it claims clients)."""
        self.page.evaluate("() => navigator.serviceWorker.ready")
        self.page.wait_for_function(
            "() => navigator.serviceWorker.controller !== null", timeout=30_000
        )

    # --- sync -------------------------------------------------------------------------

    @property
    def pill(self) -> Any:
        return self.page.get_by_test_id("sync-pill")

    def unsynced(self) -> int:
        return int(self.pill.get_attribute("data-unsynced") or "0")

    def settled_unsynced(self, quiet_ms: int = 1500, timeout_ms: int = 15_000) -> int:
        """The pending count once it has stopped changing: the pill follows IndexedDB
        through a live query, so it trails the writes of the last few milliseconds."""
        value, still, waited = self.unsynced(), 0, 0
        while still < quiet_ms and waited < timeout_ms:
            self.page.wait_for_timeout(250)
            waited += 250
            now = self.unsynced()
            still = still + 250 if now == value else 0
            value = now
        return value

    def last_sync(self) -> str:
        return self.pill.get_attribute("data-last-sync") or ""

    def wait_for_first_sync(self, timeout: float = 60_000) -> None:
        self.page.wait_for_function(
            "() => !!document.querySelector('[data-testid=sync-pill]')?.dataset.lastSync",
            timeout=timeout,
        )

    def wait_synced(self, timeout: float = 60_000) -> None:
        """Nothing unsent and no sync running."""
        self.page.wait_for_function(
            """() => { const p = document.querySelector('[data-testid=sync-pill]');
                       return p && p.dataset.unsynced === '0' && p.dataset.running === '0'; }""",
            timeout=timeout,
        )

    def sync_now(self, timeout: float = 60_000, rounds: int = 5) -> None:
        """Press "Sync now" and wait for a newer successful sync, again while the outbox
        still holds writes (one made just before the press may miss the round it started)."""
        for _ in range(rounds):
            self.go("/sync")
            before = self.last_sync()
            self.page.get_by_test_id("sync-now").click()
            self.page.wait_for_function(
                "(b) => { const p = document.querySelector('[data-testid=sync-pill]');"
                " return p && p.dataset.running === '0' && p.dataset.lastSync !== b; }",
                arg=before,
                timeout=timeout,
            )
            if self.settled_unsynced(quiet_ms=500) == 0:
                return
        raise AssertionError(f"the outbox still holds {self.unsynced()} writes after {rounds} syncs")

    # --- navigation -------------------------------------------------------------------

    def go(self, path: str) -> None:
        """In-app navigation (no reload), like tapping a link."""
        self.page.evaluate(
            "(p) => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')); }",
            path,
        )

    def open_customer(self, customer_id: str) -> Any:
        self.go(f"/customers/{customer_id}")
        detail = self.page.get_by_test_id("customer-detail")
        detail.wait_for()
        return detail

    def first_customer_id(self) -> str:
        self.page.get_by_test_id("nav-customers").click()
        item = self.page.get_by_test_id("customer-item").first
        item.wait_for()
        return str(item.get_attribute("data-customer-id"))

    # --- writes -----------------------------------------------------------------------

    def log_visit(
        self,
        customer_id: str,
        *,
        outcome: str,
        satisfaction: int,
        order_value: str,
        gift: bool,
        notes: str = "",
        next_visit: str | None = None,
    ) -> str:
        self.open_customer(customer_id)
        self.page.get_by_test_id("log-visit").click()
        self.page.get_by_test_id("visit-form").wait_for()
        self.page.get_by_test_id("checked-in").wait_for()
        self.page.get_by_test_id("visit-outcome").fill(outcome)
        self.page.get_by_test_id(f"satisfaction-{satisfaction}").click()
        self.page.get_by_test_id("visit-order-value").fill(order_value)
        if notes:
            self.page.get_by_test_id("visit-notes").fill(notes)
        if gift:
            self.page.get_by_test_id("add-gift").click()
            self.page.get_by_test_id("gift-line").wait_for()
        if next_visit:
            self.page.get_by_test_id("visit-next").fill(next_visit)
        self.page.get_by_test_id("save-visit").click()
        self.page.get_by_test_id("saved-banner").wait_for()
        visit = self.page.get_by_test_id("timeline-visit").first
        visit.wait_for()
        return str(visit.get_attribute("data-id"))

    def quick_note(self, customer_id: str, body: str, kind: str = "note") -> None:
        self.open_customer(customer_id)
        self.page.get_by_test_id("quick-note").click()
        self.page.get_by_test_id(f"note-kind-{kind}").click()
        self.page.get_by_test_id("note-body").fill(body)
        self.page.get_by_test_id("save-note").click()
        self.page.get_by_test_id("saved-banner").wait_for()

    def edit_phone(self, customer_id: str, phone: str) -> None:
        self.open_customer(customer_id)
        self.page.get_by_test_id("edit-profile").click()
        self.page.get_by_test_id("edit-phone").fill(phone)
        self.page.get_by_test_id("save-profile").click()
        self.page.get_by_test_id("profile-saved").wait_for()

    def phone_of(self, customer_id: str) -> str:
        self.open_customer(customer_id)
        return str(self.page.get_by_test_id("field-phone").inner_text())

    def set_language(self, locale: str) -> None:
        self.go("/settings")
        self.page.get_by_test_id("language-select").select_option(locale)
        self.page.wait_for_function("(l) => document.documentElement.lang === l", arg=locale)

    def screenshot(self, name: str) -> Path:
        out = ROOT / "docs" / "screenshots" / f"{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(out))
        return out


class ApiUser:
    """The same user talking to the REST API directly: what the server holds."""

    def __init__(self, base_url: str, username: str, password: str = PASSWORD) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)
        r = self.client.post("/api/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def get(self, path: str, **params: Any) -> Any:
        r = self.client.get(path, params=params)
        r.raise_for_status()
        return r.json()

    def close(self) -> None:
        self.client.close()


def english_ui_strings() -> list[str]:
    """Fragments (4+ Latin letters) of every English UI string, placeholders removed."""
    text = (ROOT / "pwa" / "src" / "i18n" / "en.ts").read_text(encoding="utf-8")
    fragments: set[str] = set()
    for value in re.findall(r'^\s*"[\w.]+": "(.*)",$', text, flags=re.M):
        for part in re.split(r"\{\w+\}", value):
            part = part.strip(" .:·—,()…")
            if len(re.findall(r"[A-Za-z]", part)) >= 4:
                fragments.add(part)
    return sorted(fragments, key=len, reverse=True)


class ImportExport:
    """The import & export screen (``/import-export``) of a signed-in App (issue 6)."""

    COUNTS = ("rows", "creates", "updates", "unchanged", "invalid")

    def __init__(self, app: App) -> None:
        self.app = app
        self.page = app.page

    def open(self) -> ImportExport:
        """A fresh screen (no report of an earlier file), as after tapping its link."""
        self.app.go("/settings")
        self.app.go("/import-export")
        self.page.get_by_test_id("import-export-screen").wait_for()
        return self

    def choose(self, name: str, data: bytes) -> None:
        """Pick a file: the screen uploads it for the preview at once."""
        self.page.get_by_test_id("import-file").set_input_files(
            files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
        )

    def counts(self) -> dict[str, int]:
        """The counts of the report on screen, once the server has answered."""
        report = self.page.get_by_test_id("import-report")
        report.wait_for()
        return {
            key: int(report.get_by_test_id(f"import-{key}").get_attribute("data-count") or "")
            for key in self.COUNTS
        }

    def preview(self, name: str, data: bytes) -> dict[str, int]:
        self.open().choose(name, data)
        return self.counts()

    def apply(self) -> dict[str, int]:
        self.page.get_by_test_id("import-apply").click()
        self.page.get_by_test_id("import-done").wait_for()
        return self.counts()

    def download(self, kind: str) -> tuple[str, bytes]:
        """Tap an export button; the file name and bytes the browser saved."""
        with self.page.expect_download() as info:
            self.page.get_by_test_id(f"export-{kind}").click()
        download = info.value
        return str(download.suggested_filename), Path(download.path()).read_bytes()

"""CSV import and export in the browser (issue 6): an admin uploads thousands of customers
with a visible progress indicator, sees the per-row report, applies it and imports the
same file again; a GBK file keeps its Chinese names; errors are messages, never a blank
screen; a rep downloads an export that starts with the UTF-8 BOM and matches the API.

These tests run against a server of their own (an empty database with one admin and one
rep), so the thousands of imported customers stay out of the demo data the other browser
tests share.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from tests.conftest import cloned_database
from tests.e2e.conftest import DIST, PHONE, TABLET
from tests.e2e.pages import PASSWORD, ApiUser, App, ImportExport
from tests.live import ROOT, LiveServer

pytestmark = pytest.mark.e2e

REGION = "华东 East China"
REP = "import.rep"
BOM = b"\xef\xbb\xbf"
HEADER = ("external_id", "name", "tier", "owner_username", "region", "phone", "tags")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
WORDS = ("华联", "百佳", "优品", "鑫源", "恒信", "嘉禾", "瑞丰", "福满", "德胜", "新世纪")
SHOPS = ("超市", "商贸有限公司", "便利店", "大药房", "餐饮管理有限公司")
MANY = 3000


@pytest.fixture(scope="module")
def import_server(
    db_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("e2e-import")
    with cloned_database(db_template, directory) as url:
        env = {**os.environ, "DATABASE_URL": url, "REVISIT_DATA_DIR": str(directory)}
        for user in (["admin", "admin"], [REP, "rep", "--region", REGION]):
            subprocess.run(
                [sys.executable, "-m", "server.cli", "create-user", "--username", user[0],
                 "--password", PASSWORD, "--role", *user[1:]],
                cwd=ROOT, env=env, check=True, capture_output=True,
            )
        with LiveServer(url, directory, static_dir=DIST) as server:
            yield server


@pytest.fixture(scope="module")
def site(import_server: LiveServer, browser: Any) -> tuple[LiveServer, Any]:
    # The server first: its setup may use asyncio.run, which Playwright's loop forbids.
    return import_server, browser


@pytest.fixture
def tablet(site: tuple[LiveServer, Any]) -> Iterator[Any]:
    server, browser = site
    context = browser.new_context(
        viewport=TABLET, base_url=server.url, service_workers="allow", locale="en-US"
    )
    yield context
    context.close()


@pytest.fixture
def admin_api(site: tuple[LiveServer, Any]) -> Iterator[ApiUser]:
    api = ApiUser(site[0].url, "admin")
    yield api
    api.close()


def shop_name(i: int) -> str:
    return f"{SURNAMES[i % 20]}记{WORDS[i // 20 % 10]}{SHOPS[i % 5]}（{i + 1}号店）"


def customer_rows(prefix: str, n: int, owned_every: int = 0) -> list[dict[str, str]]:
    """``n`` customers of the region; every ``owned_every``-th one owned by the rep."""
    return [
        {
            "external_id": f"{prefix}-{i:05d}",
            "name": shop_name(i),
            "tier": "BC"[i % 2],
            "owner_username": REP if owned_every and i % owned_every == 0 else "",
            "region": REGION,
            "phone": f"+86 21 {5550000 + i}",
            "tags": "批发;华东" if i % 3 == 0 else "",
        }
        for i in range(n)
    ]


def as_csv(rows: Sequence[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def customers_named(api: ApiUser, name: str) -> list[dict[str, Any]]:
    return [c for c in api.get("/api/customers/", q=name, limit=200)["items"] if c["name"] == name]


def taller_than_a_finger(locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["height"] >= 44 and box["width"] >= 44


def test_admin_imports_thousands_of_rows_with_progress(
    tablet: Any, admin_api: ApiUser
) -> None:
    page = tablet.new_page()
    admin = App(page).login("admin")
    admin.go("/admin")
    page.get_by_test_id("admin-import-export").click()
    page.get_by_test_id("import-section").wait_for()
    assert taller_than_a_finger(page.locator("label:has([data-testid=import-file])"))
    screen = ImportExport(admin)
    rows = customer_rows("BULK", MANY, owned_every=100)
    data = as_csv(rows)

    # Hold the upload at the network until the progress indicator has been seen.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    tablet.route("**/api/import/customers/preview", hold)
    screen.choose("customers.csv", data)
    progress = page.get_by_test_id("import-progress")
    progress.wait_for()
    while not held:
        page.wait_for_timeout(50)
    assert progress.get_attribute("data-phase") in ("upload", "checking")
    assert progress.locator("progress").count() == 1
    assert progress.inner_text().startswith(("Uploading", "Checking rows"))
    held[0].continue_()
    tablet.unroute("**/api/import/customers/preview")

    assert screen.counts() == {
        "rows": MANY, "creates": MANY, "updates": 0, "unchanged": 0, "invalid": 0
    }
    assert progress.count() == 0
    assert page.get_by_test_id("import-apply").is_enabled()
    assert screen.apply() == {
        "rows": MANY, "creates": MANY, "updates": 0, "unchanged": 0, "invalid": 0
    }
    assert "3,000 new" in page.get_by_test_id("import-done").inner_text()

    assert admin_api.get("/api/customers/", limit=1)["total"] == MANY
    for i in (0, 1, MANY - 1):
        [found] = customers_named(admin_api, shop_name(i))
        assert found["external_id"] == rows[i]["external_id"]
        assert found["phone"] == rows[i]["phone"]
    rep_id = admin_api.get("/api/admin/users/", limit=200)["items"]
    rep_id = next(u["id"] for u in rep_id if u["username"] == REP)
    assert admin_api.get("/api/customers/", owner_id=rep_id, limit=1)["total"] == MANY // 100

    # The same file again creates nothing; an edited copy only updates.
    assert screen.preview("customers.csv", data) == {
        "rows": MANY, "creates": 0, "updates": 0, "unchanged": MANY, "invalid": 0
    }
    assert screen.apply()["creates"] == 0
    edited = [dict(r, phone="+86 21 0000 0000") if i < 10 else r for i, r in enumerate(rows)]
    assert screen.preview("customers.csv", as_csv(edited)) == {
        "rows": MANY, "creates": 0, "updates": 10, "unchanged": MANY - 10, "invalid": 0
    }
    assert screen.apply()["updates"] == 10
    assert admin_api.get("/api/customers/", limit=1)["total"] == MANY
    [changed] = customers_named(admin_api, shop_name(0))
    assert changed["phone"] == "+86 21 0000 0000"


def test_invalid_rows_are_listed_and_apply_is_disabled(
    tablet: Any, admin_api: ApiUser
) -> None:
    admin = App(tablet.new_page()).login("admin")
    screen = ImportExport(admin)
    rows = customer_rows("BAD", 70)
    for i, row in enumerate(rows):
        row["name"] = f"无效测试{i}"
        if i >= 10:
            row["tier"] = "D"  # 60 invalid rows
    rows[12]["owner_username"] = "nobody"
    counts = screen.preview("bad.csv", as_csv(rows))
    assert counts == {"rows": 70, "creates": 10, "updates": 0, "unchanged": 0, "invalid": 60}

    table = admin.page.get_by_test_id("import-errors")
    listed = table.get_by_test_id("import-error-row")
    assert listed.count() == 50  # capped; the rest are counted
    more = admin.page.get_by_test_id("import-errors-more")
    assert more.get_attribute("data-count") == "10"
    assert "10 more invalid rows" in more.inner_text()
    first = table.locator("[data-testid=import-error-row][data-row='12']")  # data row 11
    assert "tier" in first.inner_text() and "must be one of A, B, C" in first.inner_text()
    owner = table.locator("[data-testid=import-error-row][data-row='14']")
    assert "owner_username" in owner.inner_text() and "nobody" in owner.inner_text()
    assert admin.page.get_by_test_id("import-apply").is_disabled()
    assert customers_named(admin_api, "无效测试0") == []


def test_apply_shows_the_servers_refusal_when_a_row_became_invalid(
    tablet: Any, admin_api: ApiUser
) -> None:
    region = next(r for r in admin_api.get("/api/regions") if r["name"] == REGION)
    r = admin_api.client.post(
        "/api/admin/users/",
        json={"username": "leaving.rep", "password": "a-long-password", "role": "rep",
              "region_id": region["id"]},
    )
    assert r.status_code == 201, r.text
    admin = App(tablet.new_page()).login("admin")
    screen = ImportExport(admin)
    rows = [dict(row, name=f"迟到测试{i}") for i, row in enumerate(customer_rows("LATE", 3))]
    rows[1]["owner_username"] = "leaving.rep"
    assert screen.preview("late.csv", as_csv(rows))["invalid"] == 0
    # The rep leaves between the preview and the apply: the server refuses the whole file.
    r = admin_api.client.patch(f"/api/admin/users/{r.json()['id']}", json={"active": False})
    assert r.status_code == 200, r.text
    admin.page.get_by_test_id("import-apply").click()
    error = admin.page.get_by_test_id("import-error")
    error.wait_for()
    assert error.inner_text() == "Failed: 1 row(s) are invalid; nothing was imported"
    assert screen.counts()["invalid"] == 1
    row = admin.page.locator("[data-testid=import-error-row][data-row='3']")
    assert "no active rep named 'leaving.rep'" in row.inner_text()
    assert admin.page.get_by_test_id("import-apply").is_disabled()
    assert customers_named(admin_api, "迟到测试0") == []


def test_a_gbk_file_keeps_its_chinese_names(tablet: Any, admin_api: ApiUser) -> None:
    admin = App(tablet.new_page()).login("admin")
    screen = ImportExport(admin)
    rows = customer_rows("GBK", 5, owned_every=1)
    for i, row in enumerate(rows):
        row["name"] = f"浙江省杭州市西湖区龙井茶叶合作社第{i + 1}分社"
    counts = screen.preview("excel-gbk.csv", as_csv(rows, "gbk"))
    assert counts["creates"] == 5 and counts["invalid"] == 0
    assert "GBK" in admin.page.get_by_test_id("import-report").inner_text()
    screen.apply()
    for row in rows:
        [found] = customers_named(admin_api, row["name"])
        assert found["external_id"] == row["external_id"]


def test_unreadable_oversized_and_offline_files_get_clear_messages(tablet: Any) -> None:
    admin = App(tablet.new_page()).login("admin")
    screen = ImportExport(admin)
    page = admin.page
    screen.open().choose("photo.csv", bytes(range(128, 256)) * 64)  # neither UTF-8 nor GBK
    error = page.get_by_test_id("import-error")
    error.wait_for()
    assert error.inner_text().startswith("The file cannot be read")
    assert page.get_by_test_id("import-report").count() == 0

    big = as_csv(customer_rows("HUGE", 1)) + b"x" * (5 * 1024 * 1024)
    screen.open().choose("huge.csv", big)  # refused before uploading
    error.wait_for()
    assert error.inner_text() == "The file is too large: 5.1 MB > 5 MB"
    rows = "".join(f"TOO-{i},店{i},C,,{REGION}\r\n" for i in range(20_001))
    many = ("external_id,name,tier,owner_username,region\r\n" + rows).encode()
    screen.open().choose("many.csv", many)  # the server's 413: over 20,000 rows
    error.wait_for()
    assert error.inner_text().startswith("The file is too large: body: at most 20000 rows")

    tablet.set_offline(True)
    try:
        page.get_by_test_id("io-offline").wait_for()
        assert page.get_by_test_id("import-file").is_disabled()
        for kind in ("customers", "visits", "gifts"):
            assert page.get_by_test_id(f"export-{kind}").is_disabled()
    finally:
        tablet.set_offline(False)
    page.get_by_test_id("io-offline").wait_for(state="detached")
    assert page.get_by_test_id("export-customers").is_enabled()


def test_a_rep_exports_customers_that_match_the_api(site: tuple[LiveServer, Any]) -> None:
    server, browser = site
    api = ApiUser(server.url, REP)
    for name in ("上海老城隍庙五香豆商店", "Chen Wei"):
        r = api.client.post("/api/customers/", json={"name": name, "tier": "A"})
        assert r.status_code == 201, r.text
    context = browser.new_context(
        viewport=PHONE, base_url=server.url, service_workers="allow", locale="en-US",
        is_mobile=True, has_touch=True,
    )
    try:
        rep = App(context.new_page()).login(REP)
        page = rep.page
        rep.go("/settings")
        page.get_by_test_id("settings-import-export").click()
        page.get_by_test_id("export-section").wait_for()
        assert page.get_by_test_id("import-section").count() == 0  # import is for admins
        for kind in ("customers", "visits", "gifts"):
            assert taller_than_a_finger(page.get_by_test_id(f"export-{kind}"))
        name, data = ImportExport(rep).download("customers")
        assert name.startswith("customers-") and name.endswith(".csv")
        assert data.startswith(BOM)
        exported = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        listed = [
            c
            for archived in ("false", "true")
            for c in api.get("/api/customers/", archived=archived, limit=200)["items"]
        ]
        assert len(exported) >= 2
        assert {r["id"]: (r["name"], r["tier"], r["external_id"]) for r in exported} == {
            c["id"]: (c["name"], c["tier"], c["external_id"] or "") for c in listed
        }
        assert "Downloaded customers-" in page.get_by_test_id("export-message").inner_text()
    finally:
        context.close()
        api.close()

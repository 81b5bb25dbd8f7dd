"""``revisit demo``'s data: shape, scope, bilingual text, logins through HTTP, idempotency.

The demo is loaded once per module into a template database (SQLite file or PostgreSQL
template); each test gets a copy through the overridden ``database_url`` fixture.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PG_BASE, _pg_exec, _with_db

NOW = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _load(url: str, data_dir: Path) -> Any:
    from server.demo import load_demo
    from server.settings import Settings

    return asyncio.run(load_demo(Settings(database_url=url, data_dir=data_dir), now=NOW))


@pytest.fixture(scope="module")
def demo_template(db_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("demo")
    if PG_BASE:
        name = f"revisit_demo_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_exec(PG_BASE, f'CREATE DATABASE "{name}" TEMPLATE "{db_template}"'))
        outcome = _load(_with_db(PG_BASE, name), root)
        assert outcome.status == "loaded"
        yield name
        asyncio.run(_pg_exec(PG_BASE, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = root / "demo.db"
        shutil.copyfile(db_template, path)
        outcome = _load(f"sqlite:///{path}", root)
        assert outcome.status == "loaded"
        yield str(path)


@pytest.fixture
def database_url(demo_template: str, tmp_path: Path) -> Iterator[str]:
    """Overrides the shared fixture: a fresh copy of the demo database."""
    if PG_BASE:
        name = f"revisit_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_exec(PG_BASE, f'CREATE DATABASE "{name}" TEMPLATE "{demo_template}"'))
        yield _with_db(PG_BASE, name)
        asyncio.run(_pg_exec(PG_BASE, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path / "revisit.db"
        shutil.copyfile(demo_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def empty_settings(db_template: str, tmp_path: Path) -> Iterator[Any]:
    """Settings for a migrated database without demo data."""
    from server.settings import Settings

    if PG_BASE:
        name = f"revisit_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_exec(PG_BASE, f'CREATE DATABASE "{name}" TEMPLATE "{db_template}"'))
        yield Settings(database_url=_with_db(PG_BASE, name), data_dir=tmp_path)
        asyncio.run(_pg_exec(PG_BASE, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path / "empty.db"
        shutil.copyfile(db_template, path)
        yield Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path)


@pytest.fixture
def demo_db(settings: Any) -> Any:
    """The demo database bound to Piccolo's tables, without starting the app."""
    from server.db import configure_database

    configure_database(settings)
    return settings


async def _all(table: Any) -> list[dict[str, Any]]:
    return await table.select()  # type: ignore[no-any-return]


async def _counts() -> dict[str, int]:
    from server.demo import TABLE_ORDER

    return {t._meta.tablename: await t.count() for t in TABLE_ORDER}


async def test_counts_are_in_the_promised_ranges(demo_db: Any) -> None:
    counts = await _counts()
    assert counts["regions"] == 3
    assert counts["users"] == 14
    assert 550 <= counts["customers"] <= 650
    assert 5 <= counts["gift_items"] <= 12
    assert counts["cadence_rules"] >= 3
    assert counts["contacts"] >= counts["customers"]
    assert 2000 <= counts["visits"] <= 5000
    assert 300 <= counts["gifts"] <= 2000
    assert 300 <= counts["notes"] <= 1500
    assert counts["planned_revisits"] == counts["customers"]


async def test_organisation_one_admin_three_managers_ten_reps(demo_db: Any) -> None:
    from server.tables import Region, User

    users = await _all(User)
    roles = Counter(u["role"] for u in users)
    assert roles == {"admin": 1, "manager": 3, "rep": 10}
    regions = {r["id"]: r for r in await _all(Region)}
    assert {r["time_zone"] for r in regions.values()} == {"Asia/Shanghai"}
    assert any(CJK.search(r["name"]) for r in regions.values())
    for region_id in regions:
        staff = [u for u in users if u["region_id"] == region_id]
        assert sum(u["role"] == "manager" for u in staff) == 1
        assert sum(u["role"] == "rep" for u in staff) >= 3


async def test_customers_tiers_stages_and_owners(demo_db: Any) -> None:
    from server.tables import Customer, User

    customers = await _all(Customer)
    reps = {u["id"]: u for u in await _all(User) if u["role"] == "rep"}
    tiers = Counter(c["tier"] for c in customers)
    n = len(customers)
    assert abs(tiers["A"] / n - 0.2) < 0.03
    assert abs(tiers["B"] / n - 0.3) < 0.03
    assert abs(tiers["C"] / n - 0.5) < 0.03
    assert all(c["tier"] == "A" for c in customers if c["key_account"])
    assert sum(c["key_account"] for c in customers) >= 10
    assert {c["stage"] for c in customers} == {
        "prospect",
        "contacted",
        "active",
        "key",
        "at_risk",
        "lost",
    }
    assert {c["kind"] for c in customers} == {"consumer", "business", "channel", "internal"}
    for c in customers:
        owner = reps.get(c["owner_id"])
        assert owner is not None, c["name"]
        assert owner["region_id"] == c["region_id"], c["name"]
        assert c["latitude"] is not None and c["longitude"] is not None
        assert c["phone"].startswith("+86 ")
        assert c["address"]
    assert len({c["name"] for c in customers}) == n  # names are unique
    per_rep = Counter(c["owner_id"] for c in customers)
    assert min(per_rep.values()) >= 30


async def test_chinese_and_english_text(demo_db: Any) -> None:
    from server.tables import Contact, Customer, GiftItem, Note

    customers = await _all(Customer)
    zh = [c for c in customers if CJK.search(c["name"])]
    assert 0.3 < len(zh) / len(customers) < 0.9
    assert any(c["name"].endswith("有限公司") for c in customers)
    assert any(c["name"].endswith("Co., Ltd.") for c in customers)
    assert any(CJK.search(c["address"]) for c in customers)
    assert any(re.match(r"^\d+ [A-Z]", c["address"]) for c in customers)
    items = await _all(GiftItem)
    assert all(i["name_en"] and CJK.search(i["name_zh"]) for i in items)
    bodies = [n["body"] for n in await _all(Note)]
    assert any(CJK.search(b) for b in bodies) and any(not CJK.search(b) for b in bodies)
    assert any(CJK.search(c["name"]) for c in await _all(Contact))


async def test_customer_data_rows_carry_the_customers_owner_and_region(demo_db: Any) -> None:
    from server.tables import Contact, Customer, Gift, Note, PlannedRevisit, Visit

    scope = {c["id"]: (c["owner_id"], c["region_id"]) for c in await _all(Customer)}
    for table in (Contact, Visit, Gift, Note, PlannedRevisit):
        for row in await _all(table):
            assert (row["owner_id"], row["region_id"]) == scope[row["customer_id"]], table


async def test_visits_cover_six_months_more_for_higher_tiers(demo_db: Any) -> None:
    from server.tables import Customer, Visit

    tier = {c["id"]: c["tier"] for c in await _all(Customer)}
    visits = await _all(Visit)
    assert all(v["started_at"] < NOW and v["ended_at"] > v["started_at"] for v in visits)
    oldest = min(v["started_at"] for v in visits)
    assert NOW - timedelta(days=190) < oldest < NOW - timedelta(days=150)
    assert all(v["started_at"].astimezone(TZ).weekday() < 5 for v in visits)
    per_tier = Counter(tier[v["customer_id"]] for v in visits)
    customers_per_tier = Counter(tier.values())
    rate = {t: per_tier[t] / customers_per_tier[t] for t in "ABC"}
    assert rate["A"] > rate["B"] > rate["C"]
    assert {v["satisfaction"] for v in visits} <= {1, 2, 3, 4, 5}
    assert len({v["purpose"] for v in visits}) >= 4


async def test_order_values_follow_a_pareto_shape(demo_db: Any) -> None:
    from server.tables import Customer, Visit

    n = await Customer.count()
    value: Counter[uuid.UUID] = Counter()
    for v in await _all(Visit):
        value[v["customer_id"]] += Decimal(v["order_value"])
    totals = sorted(value.values(), reverse=True)
    share = sum(totals[: n // 5]) / sum(totals)
    assert 0.7 <= share <= 0.9, share


async def test_gifts_respect_the_catalog_and_flag_over_cap(demo_db: Any) -> None:
    from server.tables import Gift, GiftItem, StockMovement

    items = {i["id"]: i for i in await _all(GiftItem)}
    gifts = sorted(await _all(Gift), key=lambda g: g["given_at"])
    running: Counter[tuple[Any, Any, int]] = Counter()
    for g in gifts:  # R-CREATE-3, recomputed independently
        item = items[g["item_id"]]
        assert Decimal(g["unit_value"]) == Decimal(item["unit_value"])
        key = (g["customer_id"], g["item_id"], g["given_at"].astimezone(TZ).year)
        running[key] += g["quantity"] * Decimal(g["unit_value"])
        assert g["over_cap"] == (running[key] > Decimal(item["yearly_cap"])), g
        assert (g["review_status"] != "none") == g["over_cap"]
    flagged = [g for g in gifts if g["over_cap"]]
    assert 1 <= len(flagged) <= len(gifts) // 10
    assert any(g["review_status"] == "pending" for g in flagged)
    stock: Counter[tuple[Any, Any]] = Counter()
    for m in await _all(StockMovement):
        stock[(m["rep_id"], m["item_id"])] += m["delta"]
    assert stock and min(stock.values()) > 0


async def test_complaints_open_and_resolved(demo_db: Any) -> None:
    from server.tables import Note

    complaints = [n for n in await _all(Note) if n["kind"] == "complaint"]
    status = Counter(n["status"] for n in complaints)
    assert status["open"] >= 5 and status["resolved"] >= 5
    assert set(status) == {"open", "resolved"}
    for n in complaints:
        if n["status"] == "resolved":
            assert n["created_at"] < n["resolved_at"] <= NOW
        else:
            assert n["resolved_at"] is None
    assert {n["kind"] for n in await _all(Note)} == {"note", "complaint", "feedback"}


async def test_cadence_rules_and_a_planned_revisit_for_every_customer(demo_db: Any) -> None:
    from server.tables import CadenceRule, Customer, PlannedRevisit, Visit

    rules = {
        r["tier"]: r
        for r in await _all(CadenceRule)
        if r["region_id"] is None and r["stage"] is None
    }
    assert {t: rules[t]["interval_days"] for t in "ABC"} == {"A": 14, "B": 30, "C": 60}
    assert all(1 <= r["reminder_lead_days"] <= 2 for r in rules.values())
    customers = {c["id"]: c for c in await _all(Customer)}
    plans = await _all(PlannedRevisit)
    assert {p["customer_id"] for p in plans} == set(customers)
    assert all(p["status"] == "planned" and p["rep_id"] == p["owner_id"] for p in plans)
    last: dict[Any, Any] = {}
    for v in await _all(Visit):
        day = v["started_at"].astimezone(TZ).date()
        last[v["customer_id"]] = max(day, last.get(v["customer_id"], day))
    today = NOW.astimezone(TZ).date()
    for p in plans:
        if p["source"] == "cadence" and p["customer_id"] in last:
            interval = rules[customers[p["customer_id"]]["tier"]]["interval_days"]
            assert p["due_date"] == last[p["customer_id"]] + timedelta(days=interval)
    overdue = [p for p in plans if p["due_date"] < today]
    assert 0.05 < len(overdue) / len(plans) < 0.5
    due_today = Counter(p["rep_id"] for p in plans if p["due_date"] == today)
    assert len(due_today) == 10 and min(due_today.values()) >= 3  # every rep has a today plan


async def test_demo_logins_work_over_http(client: Any) -> None:
    from server.demo import DEMO_PASSWORD, demo_logins
    from server.tables import User

    logins = demo_logins()
    assert len(logins) == 14
    users = {
        u["username"]: u for u in await User.select(User.username, User.role, User.password_hash)
    }
    assert {login.username: login.role for login in logins} == {
        n: u["role"] for n, u in users.items()
    }
    assert len({u["password_hash"] for u in users.values()}) == 1  # one shared demo password
    for login in {login.role: login for login in logins}.values():  # one per role
        r = await client.post(
            "/api/auth/login", json={"username": login.username, "password": DEMO_PASSWORD}
        )
        assert r.status_code == 200, (login.username, r.text)
        assert r.json()["user"]["role"] == login.role
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        me = await client.get("/api/me", headers=headers)
        assert me.status_code == 200 and me.json()["username"] == login.username


async def test_second_run_adds_nothing(
    demo_db: Any, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.demo import load_demo

    before = await _counts()
    outcome = await load_demo(settings, quiet=False, now=NOW + timedelta(days=3))
    assert outcome.status == "already_loaded"
    assert await _counts() == before
    out = capsys.readouterr().out
    assert "already loaded" in out and "li.wei" in out and "revisit-demo" in out


async def test_two_loaders_at_once_load_once(empty_settings: Any) -> None:
    from server.demo import load_demo
    from server.tables import Customer, User

    first, second = await asyncio.gather(
        load_demo(empty_settings, now=NOW), load_demo(empty_settings, now=NOW)
    )
    assert sorted([first.status, second.status]) == ["already_loaded", "loaded"]
    assert await User.count() == 14
    assert 550 <= await Customer.count() <= 650


async def test_a_database_in_use_is_left_alone(demo_db: Any, settings: Any) -> None:
    from server.demo import MARKER_KEY, load_demo
    from server.tables import Customer, ServerSetting, User

    await ServerSetting.delete().where(ServerSetting.key == MARKER_KEY)
    await Customer.delete(force=True)  # users remain: someone's real organisation
    outcome = await load_demo(settings, now=NOW)
    assert outcome.status == "not_empty" and not outcome.ok
    assert "only loaded into an empty database" in outcome.message
    assert await Customer.count() == 0
    assert await User.count() == 14


def test_build_is_deterministic() -> None:
    from server.demo import build_demo

    def snapshot(now: datetime) -> list[tuple[Any, ...]]:
        data = build_demo(now, "hash")
        return [
            (t._meta.tablename, *(getattr(row, c._meta.name) for c in t._meta.columns))
            for t, rows in data.rows.items()
            for row in rows
        ]

    assert snapshot(NOW) == snapshot(NOW)


async def pull_all(client: Any, token: str, client_id: str, cursor: str | None = None) -> Any:
    """Pull until ``more`` is false, as a device does; return (replica, cursor, checksums)."""
    import time

    headers = {"Authorization": f"Bearer {token}"}
    replica: dict[tuple[str, str, str], int] = {}
    while True:
        clock = f"{int(time.time() * 1000):012x}-0000-{client_id}"
        body = {
            "protocol": 1,
            "client_id": client_id,
            "clock": clock,
            "cursor": cursor,
            "limit": 2000,
        }
        r = await client.post("/api/sync/pull", json=body, headers=headers)
        if r.status_code != 200:
            return r
        page = r.json()
        for change in page["changes"]:
            key = (change["bucket"], change["table"], change["id"])
            if change["op"] == "put":
                replica[key] = change["v"]
            else:
                replica.pop(key, None)
        cursor = page["cursor"]
        if not page["more"]:
            return replica, cursor, page["checksums"]


async def test_devices_receive_the_demo_data_through_sync(client: Any) -> None:
    """The loader hands its rows to the sync engine (seq, clocks, bucket checksums), so a
    rep's first sync brings exactly the rep's customers and verifies."""
    from server.demo import DEMO_PASSWORD
    from server.tables import Customer, User
    from sync.checksum import bucket_sum, to_hex

    login = await client.post(
        "/api/auth/login", json={"username": "li.wei", "password": DEMO_PASSWORD}
    )
    token = login.json()["access_token"]
    replica, _, checksums = await pull_all(client, token, uuid.uuid4().hex)
    me = await User.select(User.id).where(User.username == "li.wei").first()
    mine = {
        str(c["id"])
        for c in await Customer.select(Customer.id).where(Customer.owner_id == me["id"])
    }
    assert len(mine) >= 30
    assert {row_id for (_, table, row_id) in replica if table == "customers"} == mine
    assert {table for (_, table, _) in replica} >= {
        "customers",
        "contacts",
        "visits",
        "gifts",
        "notes",
        "planned_revisits",
        "stock_movements",
        "gift_items",
    }
    for bucket, expected in checksums.items():
        count, total = bucket_sum((t, i, v) for (b, t, i), v in replica.items() if b == bucket)
        assert (count, to_hex(total)) == (expected["count"], expected["sum"]), bucket

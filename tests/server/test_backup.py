"""``revisit backup`` / ``revisit restore``: consistent copies of a live database, verified,
and a restore that gives the database a new sync epoch so devices re-sync.

The SQLite tests make their own database file (they run in the PostgreSQL CI pass too);
the PostgreSQL ones use the shared ``database_url`` fixture and need ``pg_dump``.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from server.backup import EPOCH_KEY, BackupError, backup, read_epoch_sqlite, restore
from server.settings import Settings

NOW = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)


@pytest.fixture
async def sqlite_settings(tmp_path: Path) -> Settings:
    from server.migrate import migrate

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'live' / 'revisit.db'}", data_dir=tmp_path
    )
    await migrate(settings)
    return settings


async def _add_customer(name: str) -> uuid.UUID:
    """One write transaction: a customer and its planned revisit, as a pair."""
    from server.db import write_transaction
    from server.tables import Customer, PlannedRevisit

    customer_id = uuid.uuid4()
    async with write_transaction():
        await Customer.insert(Customer(id=customer_id, name=name, tier="B"))
        await PlannedRevisit.insert(
            PlannedRevisit(id=uuid.uuid4(), customer_id=customer_id, due_date=date(2026, 12, 1))
        )
    return customer_id


def _fill(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO notes (id, customer_id, author_id, kind, body, created_at) VALUES (?, ?, ?, 'note', ?, ?)",
            (
                (
                    str(uuid.uuid4()),
                    str(uuid.uuid4()),
                    str(uuid.uuid4()),
                    "x" * 200,
                    NOW.isoformat(),
                )
                for _ in range(rows)
            ),
        )
    conn.close()


def _names(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM customers")}
    finally:
        conn.close()


async def test_backup_while_writes_happen_is_a_consistent_verified_copy(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    _fill(sqlite_settings.sqlite_path, 20_000)  # a backup that takes a while
    committed: list[str] = []
    stop = asyncio.Event()
    started = asyncio.Event()

    async def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await _add_customer(f"customer {n}")
            committed.append(f"customer {n}")
            if n == 50:
                started.set()

    (tmp_path / "out").mkdir()
    task = asyncio.create_task(writer())
    await started.wait()
    before = set(committed)
    result = await asyncio.to_thread(backup, sqlite_settings, tmp_path / "out", NOW)
    during = set(committed)
    stop.set()
    await task

    assert result.kind == "sqlite"
    assert (
        result.path.parent == tmp_path / "out" and result.path.name == "revisit-20261125T023000Z.db"
    )
    conn = sqlite3.connect(result.path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        plans = conn.execute("SELECT count(*) FROM planned_revisits").fetchone()[0]
    finally:
        conn.close()
    assert customers == plans  # no transaction was cut in half
    names = _names(result.path)
    assert before <= names <= during  # everything committed before, nothing not yet committed
    assert names == {f"customer {n}" for n in range(1, len(names) + 1)}  # a prefix of the commits
    assert not list((tmp_path / "out").glob("*.partial"))


async def test_backup_goes_to_the_data_dir_and_never_overwrites(sqlite_settings: Settings) -> None:
    await _add_customer("Alpha")
    result = backup(sqlite_settings, None, NOW)
    assert result.path == sqlite_settings.data_dir / "backups" / "revisit-20261125T023000Z.db"
    with pytest.raises(BackupError, match="already exists"):
        backup(sqlite_settings, None, NOW)
    explicit = sqlite_settings.data_dir / "mine.db"
    assert backup(sqlite_settings, explicit, NOW).path == explicit
    assert _names(explicit) == {"Alpha"}


async def test_restore_brings_back_the_old_state_with_a_new_epoch(
    sqlite_settings: Settings,
) -> None:
    from server.tables import Customer

    await _add_customer("Kept")
    saved = backup(sqlite_settings, None, NOW).path
    await _add_customer("Lost after the backup")
    live = sqlite_settings.sqlite_path
    epoch_before = read_epoch_sqlite(live)

    result = await asyncio.to_thread(
        restore, sqlite_settings, saved, datetime(2026, 11, 26, tzinfo=UTC)
    )

    assert result.epoch != epoch_before
    assert read_epoch_sqlite(live) == result.epoch
    assert {c["name"] for c in await Customer.select(Customer.name)} == {"Kept"}
    assert result.safety_copy is not None
    assert _names(result.safety_copy) == {"Kept", "Lost after the backup"}
    conn = sqlite3.connect(live)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()
    assert read_epoch_sqlite(saved) == epoch_before  # the backup itself is untouched

    again = await asyncio.to_thread(
        restore, sqlite_settings, saved, datetime(2026, 11, 27, tzinfo=UTC)
    )
    assert again.epoch not in (result.epoch, epoch_before)  # every restore is a new epoch


async def test_restore_refuses_what_is_not_a_revisit_backup(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    await _add_customer("Still here")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for bad, message in ((junk, "cannot|not a readable"), (other, "not a Revisit database")):
        with pytest.raises(BackupError, match=message):
            restore(sqlite_settings, bad, NOW)
    with pytest.raises(BackupError, match="no backup at"):
        restore(sqlite_settings, tmp_path / "missing.db", NOW)
    assert _names(sqlite_settings.sqlite_path) == {"Still here"}
    assert not list(sqlite_settings.sqlite_path.parent.glob("*.restoring"))


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
async def test_postgres_backup_and_restore(settings: Any) -> None:
    from server.db import configure_database
    from server.migrate import migrate
    from server.tables import Customer, ServerSetting

    await migrate(settings)
    configure_database(settings)
    await _add_customer("Kept")
    saved = (await asyncio.to_thread(backup, settings, None, NOW)).path
    assert saved.suffix == ".dump"
    await _add_customer("Lost after the backup")

    result = await asyncio.to_thread(restore, settings, saved, datetime(2026, 11, 26, tzinfo=UTC))

    assert {c["name"] for c in await Customer.select(Customer.name)} == {"Kept"}
    row = (
        await ServerSetting.select(ServerSetting.value)
        .where(ServerSetting.key == EPOCH_KEY)
        .first()
    )
    assert row == {"value": result.epoch}
    assert result.safety_copy is not None and result.safety_copy.stat().st_size > 0
    analyzed = await Customer.raw("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'customers'")
    assert analyzed[0]["last_analyze"] is not None  # the planner has statistics of the restored data


class Device:
    """Just enough of a sync client (docs/sync-protocol.md) to watch a restore happen."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.id = uuid.uuid4().hex
        self.counter = 0

    def clock(self) -> str:
        import time

        self.counter += 1
        return f"{int(time.time() * 1000):012x}-{self.counter:04x}-{self.id}"

    async def push(self, mutations: list[dict[str, Any]]) -> Any:
        for m in mutations:
            m["hlc"] = self.clock()
        body = {"protocol": 1, "client_id": self.id, "clock": self.clock(), "mutations": mutations}
        return await self.client.post("/api/sync/push", json=body, headers=self.headers)

    async def pull(self, cursor: str | None) -> Any:
        names: set[str] = set()
        while True:
            body = {"protocol": 1, "client_id": self.id, "clock": self.clock(), "cursor": cursor}
            r = await self.client.post("/api/sync/pull", json=body, headers=self.headers)
            if r.status_code != 200:
                return r
            page = r.json()
            names |= {c["row"]["name"] for c in page["changes"] if c["table"] == "customers"}
            cursor = page["cursor"]
            if not page["more"]:
                return names, cursor


def _create(n: int, name: str) -> dict[str, Any]:
    row = {"name": name, "tier": "B"}
    return {"kind": "create", "n": n, "table": "customers", "id": str(uuid.uuid4()), "row": row}


async def test_devices_notice_a_restore_and_resync_keeping_their_outbox(tmp_path: Path) -> None:
    """R-CUR-4 / R-PUSH-8 over HTTP: after a restore to an older state the device's cursor
    gets ``resync_required`` (epoch) and its next push ``sequence_gap``; it re-pulls from
    the start and re-sends what the server lost, and ends up with everything."""
    import httpx

    from server.app import create_app
    from server.auth.passwords import hash_password
    from server.migrate import migrate
    from server.users import create_user, ensure_region
    from tests.conftest import running

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'revisit.db'}",
        data_dir=tmp_path,
        secret_key="test-secret-key-" + "x" * 32,
        run_scheduler=False,
        login_rate_per_minute=1000,
        static_dir=tmp_path / "no-pwa",
    )
    await migrate(settings)
    await create_user(
        "rob", "pw", "rep", await ensure_region("North"), password_hash=hash_password("pw")
    )

    async def session() -> Any:
        app = create_app(settings)
        ctx = running(app)
        await ctx.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        return ctx, client

    ctx, client = await session()
    token = (
        await client.post("/api/auth/login", json={"username": "rob", "password": "pw"})
    ).json()
    device = Device(client, token["access_token"])
    assert (await device.push([_create(1, "Before backup")])).status_code == 200
    await client.aclose()
    await ctx.__aexit__(None, None, None)

    saved = backup(settings, None, NOW).path

    ctx, client = await session()
    device.client = client
    after = _create(2, "After backup")
    assert (await device.push([after])).json()["results"][0]["status"] == "applied"
    names, cursor = await device.pull(None)
    assert names == {"Before backup", "After backup"}
    await client.aclose()
    await ctx.__aexit__(None, None, None)

    await asyncio.to_thread(restore, settings, saved, datetime(2026, 11, 26, tzinfo=UTC))

    ctx, client = await session()
    device.client = client
    try:
        stale = await device.pull(cursor)
        assert stale.status_code == 409
        assert stale.json()["code"] == "resync_required" and stale.json()["reason"] == "epoch"
        names, cursor = await device.pull(None)  # the replica is rebuilt from scratch
        assert names == {"Before backup"}

        unsent = _create(3, "Unsent while restoring")
        gap = await device.push([unsent])
        assert gap.status_code == 409 and gap.json()["code"] == "sequence_gap"
        expected = gap.json()["expected"]
        assert expected == 2
        # R-PUSH-8: re-append what was acknowledged after the restore point, renumber, resend.
        after["n"], unsent["n"] = expected, expected + 1
        results = (await device.push([after, unsent])).json()["results"]
        assert [r["status"] for r in results] == ["applied", "applied"]
        names, _ = await device.pull(cursor)
        assert names == {"After backup", "Unsent while restoring"}
    finally:
        await client.aclose()
        await ctx.__aexit__(None, None, None)

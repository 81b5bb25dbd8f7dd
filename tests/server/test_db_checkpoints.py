"""SQLite's WAL is copied back into the database file in the background, not inside a
write's commit, and stays bounded however steadily the writers write. (PostgreSQL has no
such file: not concerned.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from server import db

pytestmark = pytest.mark.usefixtures("sqlite_only")

PAGE = 4096


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _exists(path: str) -> bool:
    return os.path.exists(path)


def _wal(database: Any) -> Path:
    return Path(f"{database.sqlite_path}-wal")


async def _write(key: str, size: int) -> None:
    async with db.write_transaction():
        await db.run_sql(
            "INSERT INTO server_settings (key, value) VALUES ({}, {}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, os.urandom(size // 2).hex()),
        )


async def _eventually(check: Any, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


async def test_a_large_commit_leaves_the_copy_to_a_background_checkpoint(database: Any) -> None:
    await _write("warm-up", 1000)
    await _eventually(lambda: db._checkpointer().task is None and db._checkpointer().timer is None)
    file_before = _size(database.sqlite_path)

    await _write("large", 1500 * PAGE)  # past the 1,000 pages of SQLite's own checkpoint

    # the commit returned with its pages in the WAL, none yet in the database file ...
    assert _size(_wal(database)) > 1500 * PAGE
    assert _size(database.sqlite_path) < file_before + 100 * PAGE
    # ... which a background checkpoint fills without another write
    await _eventually(lambda: _size(database.sqlite_path) > file_before + 1400 * PAGE)
    async with db.read_transaction():
        rows = await db.run_sql("SELECT length(value) AS n FROM server_settings WHERE key = {}", ("large",))
    assert rows == [{"n": 1500 * PAGE}]


async def test_the_wal_stays_bounded_under_steady_writes_and_reads(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "WAL_BOUND", 200)
    monkeypatch.setattr(db, "CHECKPOINT_EVERY", 0.05)
    commits, pages = 3 * 200, 10
    written = 0

    async def writer(n: int) -> None:
        nonlocal written
        for i in range(commits // 3):
            await _write(f"steady-{n}-{i % 5}", pages * PAGE)
            written += pages * PAGE

    async def reader() -> None:
        # a reader always open, each from before the last one ended, as pulls overlap: no
        # moment without a reader of the WAL
        while written < commits * pages * PAGE:
            async with db.read_transaction():
                await db.run_sql("SELECT count(*) AS n FROM server_settings", ())
                await asyncio.sleep(0.002)

    await asyncio.gather(writer(1), writer(2), writer(3), reader(), reader())

    # SQLite's own checkpoint starves here: the WAL then holds most of the 6,000 pages
    assert _size(_wal(database)) < commits * pages * PAGE // 2
    async with db.read_transaction():
        rows = await db.run_sql("SELECT count(*) AS n FROM server_settings WHERE key LIKE 'steady-%'", ())
    assert rows == [{"n": 15}]


async def test_a_checkpoint_never_creates_a_database_that_is_gone(database: Any) -> None:
    path = str(database.sqlite_path)
    await _write("before", 100)
    await db.close_pool()
    for name in (path, f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(name)

    checkpoints = db._checkpointer()
    checkpoints.after_write(path)  # a write's checkpoint still due when the file went
    await _eventually(lambda: checkpoints.task is None and checkpoints.timer is None)

    assert not _exists(path)


async def test_stopping_waits_for_the_running_checkpoint_and_leaves_no_wal(database: Any) -> None:
    await _write("last", 200 * PAGE)
    checkpoints = db._checkpointer()
    assert checkpoints.task is not None or checkpoints.timer is not None  # one is due

    await db.close_pool()

    assert checkpoints.task is None and checkpoints.timer is None
    assert _size(_wal(database)) == 0  # the last connection closed copied all of it
    conn = sqlite3.connect(database.sqlite_path)
    try:
        assert conn.execute("SELECT length(value) FROM server_settings WHERE key = 'last'").fetchone() == (200 * PAGE,)
    finally:
        conn.close()


async def test_a_restart_that_fails_never_fails_the_write(database: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(db, "_restart_wal", broken)
    await _write("first", 100)
    await _eventually(lambda: db._checkpointer().task is None)
    db._checkpointer().frames = db.WAL_BOUND + 1  # as if the last checkpoint found a long WAL

    await _write("after", 100)  # its writer tries the restart first

    assert db._checkpointer().frames <= db.WAL_BOUND  # tried once; the next try waits for a checkpoint
    async with db.read_transaction():
        rows = await db.run_sql("SELECT key FROM server_settings WHERE key IN ('first', 'after') ORDER BY key", ())
    assert rows == [{"key": "after"}, {"key": "first"}]

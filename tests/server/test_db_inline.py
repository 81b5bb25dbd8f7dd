"""SQLite statements that never wait for a lock run on the event loop's thread; the two
that may wait (BEGIN IMMEDIATE, COMMIT) do not, and a long transaction still lets the
loop's other tasks run. (PostgreSQL talks to its server over the network: not concerned.)"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import pytest

from server import db

pytestmark = pytest.mark.usefixtures("sqlite_only")


async def _statement_thread() -> int:
    """The thread that runs the current transaction's statements, as SQLite sees it."""
    raw = db.engine().current_transaction.get().connection._conn  # the sqlite3 connection
    raw.create_function("revisit_thread", 0, threading.get_ident)
    rows = await db.run_sql("SELECT revisit_thread() AS t", ())
    return int(rows[0]["t"])


async def test_reads_and_a_writes_statements_run_on_the_loops_thread(database: Any) -> None:
    loop_thread = threading.get_ident()
    async with db.read_transaction():
        assert await _statement_thread() == loop_thread
    async with db.write_transaction():
        assert await _statement_thread() == loop_thread
        await db.run_sql("INSERT INTO server_settings (key, value) VALUES ({}, {})", ("inline", "1"))
    async with db.read_transaction():
        assert await db.run_sql("SELECT value FROM server_settings WHERE key = {}", ("inline",)) == [{"value": "1"}]


async def test_a_writer_waiting_for_another_process_lock_leaves_the_loop_free(database: Any) -> None:
    other = sqlite3.connect(str(database.sqlite_path), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0
    done = asyncio.Event()

    async def write() -> None:
        async with db.write_transaction():
            await db.run_sql("INSERT INTO server_settings (key, value) VALUES ({}, {})", ("waited", "1"))
        done.set()

    writer = asyncio.create_task(write())
    while ticks < 50:  # the loop runs other tasks while the writer waits in SQLite's busy handler
        await asyncio.sleep(0.001)
        ticks += 1
    assert not done.is_set()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, timeout=30)
    async with db.read_transaction():
        assert await db.run_sql("SELECT value FROM server_settings WHERE key = {}", ("waited",)) == [{"value": "1"}]


async def test_a_long_transaction_lets_the_loops_other_tasks_run(database: Any) -> None:
    ran = 0
    stop = False

    async def other_task() -> None:
        nonlocal ran
        while not stop:
            ran += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    async with db.write_transaction():
        before = ran
        for i in range(20_000):  # every statement inline; none of them yields by itself
            await db.run_sql("INSERT INTO server_settings (key, value) VALUES ({}, {})", (f"long-{i}", "x"))
        during = ran - before
    stop = True
    await task
    assert during > 0
    async with db.read_transaction():
        rows = await db.run_sql("SELECT COUNT(*) AS n FROM server_settings WHERE key LIKE {}", ("long-%",))
    assert rows[0]["n"] == 20_000

"""Read transactions of the Piccolo store (pull, verify) on SQLite and (with
``REVISIT_TEST_DATABASE_URL``) PostgreSQL: each sees everything committed before it and
keeps one snapshot until it ends (R-CUR-2), however many run at once and however often
the store reuses its connections; recording a pull keeps what a push recorded (R-PULL-6).
Also the memory store where the contract allows it."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
from typing import Any

import pytest

from sync.store import ClientState, row_of
from tests.sync_contract.test_store_contract import (  # noqa: F401 (fixtures)
    NOW,
    OWNER,
    backend,
    row,
    store,
    uid,
)


async def _write_note(store: Any, **values: Any) -> dict[str, Any]:  # noqa: F811
    async with store.write() as tx:
        r = row("notes", await tx.next_seq(), **values)
        await tx.save("notes", r)
    return r


async def test_every_read_sees_what_was_committed_before_it(store: Any) -> None:  # noqa: F811
    for _ in range(6):  # more reads, one after the other, than a pool would keep connections
        r = await _write_note(store)
        async with store.read() as rx:
            assert (await rx.head(())).high == r["seq"]
            assert await rx.get("notes", r["id"]) == r
            changes = await rx.changes(f"rep:{OWNER}", r["seq"] - 1, r["seq"], 10)
            assert [(c.seq, c.row_id, row_of(c.row)) for c in changes] == [(r["seq"], r["id"], r)]


async def test_a_read_keeps_its_snapshot_while_others_commit(backend: Any, store: Any) -> None:  # noqa: F811
    if backend is None:
        pytest.skip("the memory store serializes reads and writes")
    first = await _write_note(store)
    async with store.read() as old:
        assert (await old.head(())).high == first["seq"]
        # another request's write: its own task and context, so not nested in this read
        later = await asyncio.create_task(_write_note(store), context=contextvars.Context())
        assert (await old.head(())).high == first["seq"]
        assert await old.get("notes", later["id"]) is None
    async with store.read() as rx:
        assert (await rx.head(())).high == later["seq"]
        assert await rx.get("notes", later["id"]) == later


async def test_many_reads_at_once_each_see_the_committed_rows(backend: Any, store: Any) -> None:  # noqa: F811
    if backend is None:
        pytest.skip("the memory store serializes reads")
    rows = [await _write_note(store) for _ in range(3)]

    async def read() -> list[Any]:
        async with store.read() as rx:
            high = (await rx.head(())).high
            await asyncio.sleep(0)  # the others start their transactions meanwhile
            return [high, *[await rx.get("notes", r["id"]) for r in rows]]

    seen = await asyncio.gather(*(read() for _ in range(10)))
    assert seen == [[rows[-1]["seq"], *rows]] * 10
    with pytest.raises(RuntimeError):  # a read that fails gives nothing back wrong afterwards
        async with store.read() as rx:
            await rx.head(())
            raise RuntimeError("boom")
    later = await _write_note(store)
    async with store.read() as rx:
        assert await rx.get("notes", later["id"]) == later


async def test_read_rows_keep_their_times_to_the_microsecond(store: Any) -> None:  # noqa: F811
    whole = NOW.replace(microsecond=0)
    for created in (NOW, whole, whole + dt.timedelta(microseconds=1)):
        r = await _write_note(store, created_at=created.isoformat().replace("+00:00", "Z"))
        async with store.read() as rx:
            assert await rx.get("notes", r["id"]) == r


async def test_recording_a_pull_keeps_the_pushed_number(store: Any) -> None:  # noqa: F811
    known, new = f"dev-{uid()[:8]}", f"dev-{uid()[:8]}"
    async with store.write() as tx:
        await tx.next_seq()
        await tx.save_client(ClientState(known, OWNER, 7, 3), NOW)
    later = NOW + dt.timedelta(hours=2)
    await store.record_pull(known, OWNER, 42, later)
    await store.record_pull(new, OWNER, 5, later)
    async with store.read() as rx:
        assert (await rx.head((), known)).client == ClientState(known, OWNER, 7, 42, later)
        assert (await rx.head((), new)).client == ClientState(new, OWNER, 0, 5, later)


async def test_a_failed_write_leaves_nothing_and_the_next_writes_commit(store: Any) -> None:  # noqa: F811
    """On SQLite writes reuse one connection too: a write that fails must hand back a
    connection with nothing of it left, whatever comes next."""
    for _ in range(3):
        with pytest.raises(RuntimeError):
            async with store.write() as tx:
                failed = row("notes", await tx.next_seq())
                await tx.save("notes", failed)
                raise RuntimeError("boom")
        ok = await _write_note(store)
        async with store.read() as rx:
            assert await rx.get("notes", failed["id"]) is None
            assert await rx.get("notes", ok["id"]) == ok
            assert (await rx.head(())).high == ok["seq"]


async def test_pulls_recorded_at_once_are_each_kept(store: Any) -> None:  # noqa: F811
    """Recording a pull returns once that record is stored, however many are recorded at
    once (the Piccolo store commits them together); the latest record of a device wins."""
    devices = [f"dev-{uid()[:8]}" for _ in range(40)]
    later = NOW + dt.timedelta(minutes=5)
    await asyncio.gather(*(store.record_pull(d, OWNER, 10 + i, NOW) for i, d in enumerate(devices)))
    async with store.read() as rx:
        assert [(await rx.head((), d)).client for d in devices] == [
            ClientState(d, OWNER, 0, 10 + i, NOW) for i, d in enumerate(devices)
        ]
    await asyncio.gather(*(store.record_pull(d, OWNER, 100 + i, later) for i, d in enumerate(devices[:20])),
                         _write_note(store))  # a push's write in between
    await store.record_pull(devices[0], OWNER, 7, later)  # a device that started over
    async with store.read() as rx:
        assert (await rx.head((), devices[0])).client == ClientState(devices[0], OWNER, 0, 7, later)
        assert (await rx.head((), devices[19])).client == ClientState(devices[19], OWNER, 0, 119, later)
        assert (await rx.head((), devices[20])).client == ClientState(devices[20], OWNER, 0, 30, NOW)


async def test_a_pull_record_that_cannot_be_stored_fails_and_the_next_is_stored(backend: Any, store: Any) -> None:  # noqa: F811
    if backend is None:
        pytest.skip("the memory store has no integer range")
    device = f"dev-{uid()[:8]}"
    with pytest.raises(Exception):  # noqa: B017 (the database's own error: out of its integer range)
        await store.record_pull(device, OWNER, 2**70, NOW)
    await store.record_pull(device, OWNER, 12, NOW)
    async with store.read() as rx:
        assert (await rx.head((), device)).client == ClientState(device, OWNER, 0, 12, NOW)


async def test_a_pull_recorded_inside_a_write_is_part_of_it(backend: Any, store: Any) -> None:  # noqa: F811
    """Not the engine's way (it records after its read), but a caller inside a write must
    neither wait for itself nor have the record outlive a rollback."""
    if backend is None:
        pytest.skip("the memory store has no transactions to join")
    from server import db

    kept, dropped = f"dev-{uid()[:8]}", f"dev-{uid()[:8]}"
    async with db.write_transaction():
        await asyncio.wait_for(store.record_pull(kept, OWNER, 3, NOW), timeout=10)
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await asyncio.wait_for(store.record_pull(dropped, OWNER, 4, NOW), timeout=10)
            raise RuntimeError("rolled back")
    async with store.read() as rx:
        assert (await rx.head((), kept)).client == ClientState(kept, OWNER, 0, 3, NOW)
        assert (await rx.head((), dropped)).client is None

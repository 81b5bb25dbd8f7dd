"""The migrations build the whole schema from an empty database, on SQLite and PostgreSQL,
and the tables then match their Piccolo definitions column for column."""

from __future__ import annotations

import uuid
from pathlib import Path

from server.migrate import migrate
from server.settings import Settings
from server.sync import wire
from server.tables import TABLES
from sync.schema import TABLES as SYNCED
from tests.conftest import PG_BASE, _pg_exec, _with_db


async def _columns(table: str) -> set[str]:
    from server.db import is_sqlite
    from server.tables import ServerSetting

    if is_sqlite():
        rows = await ServerSetting.raw(f"PRAGMA table_info({table})")
        return {r["name"] for r in rows}
    rows = await ServerSetting.raw(
        "SELECT column_name FROM information_schema.columns WHERE table_name = {}", table
    )
    return {r["column_name"] for r in rows}


async def test_migrations_build_the_schema_from_empty(tmp_path: Path) -> None:
    name = f"revisit_empty_{uuid.uuid4().hex[:10]}"
    if PG_BASE:
        await _pg_exec(PG_BASE, f'CREATE DATABASE "{name}"')
        url = _with_db(PG_BASE, name)
    else:
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    try:
        settings = Settings(database_url=url, data_dir=tmp_path)
        from server import db

        await migrate(settings)
        await db.start_pool()
        try:
            for table in TABLES:
                expected = {c._meta.db_column_name for c in table._meta.columns}
                if table._meta.tablename in SYNCED:  # the kept wire JSON, outside Piccolo's model
                    expected |= set(wire.COLUMNS)
                assert await _columns(table._meta.tablename) == expected, table._meta.tablename
            assert await _columns("rate_limits") == {"key", "window_start", "hits"}
        finally:
            await db.close_pool()
        await migrate(settings)  # a second run is a no-op
    finally:
        if PG_BASE:
            await _pg_exec(PG_BASE, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

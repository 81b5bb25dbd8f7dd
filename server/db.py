"""Database engines, binding and the one transaction helper every write uses.

SQLite: WAL, foreign keys, ``BEGIN IMMEDIATE`` for writes (a deferred transaction that
upgrades to a write lock fails with "database is locked" instead of waiting).
PostgreSQL: a connection pool started in the app lifespan.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from server.settings import Settings

os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")


def postgres_config(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    config: dict[str, Any] = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "database": (parsed.path or "/postgres").lstrip("/") or "postgres",
    }
    if parsed.password:
        config["password"] = unquote(parsed.password)
    return config


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return PostgresEngine(config=postgres_config(settings.database_url))
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=30)


def all_tables() -> list[Any]:
    from piccolo.apps.migrations.tables import Migration

    from server.tables import TABLES

    return [*TABLES, Migration]


def configure_database(settings: Settings) -> Engine:
    """Point Piccolo (tables, migrations) at the database named by ``settings``."""
    import server.piccolo_conf as conf

    engine = make_engine(settings)
    conf.DB = engine
    for table in all_tables():
        table._meta.db = engine
    return engine


def engine() -> Engine:
    import server.piccolo_conf as conf

    return conf.DB  # type: ignore[no-any-return]


def is_sqlite() -> bool:
    return engine().engine_type == "sqlite"


# SQLite has one writer at a time. Queueing this process's writers on an asyncio lock
# (instead of letting each poll SQLite's busy handler) keeps them in order and lets none
# time out into "database is locked" under load; the busy timeout still covers other
# processes (backups, CLI).
_sqlite_writer: dict[int, asyncio.Lock] = {}
_holding: contextvars.ContextVar[bool] = contextvars.ContextVar("revisit_db_writer", default=False)


def _writer_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _sqlite_writer.get(id(loop))
    if lock is None:
        lock = _sqlite_writer[id(loop)] = asyncio.Lock()
    return lock


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """The transaction every write goes through: IMMEDIATE on SQLite, plain on PostgreSQL."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        if _holding.get():  # nested: Piccolo makes the inner transaction a no-op
            async with db.transaction(transaction_type=TransactionType.immediate) as tx:
                yield tx
            return
        async with _writer_lock():
            token = _holding.set(True)
            try:
                async with db.transaction(transaction_type=TransactionType.immediate) as tx:
                    yield tx
            finally:
                _holding.reset(token)
    else:
        async with db.transaction() as tx:
            yield tx


async def prepare_sqlite() -> None:
    """WAL persists in the file; run once at start."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def start_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=10)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()

"""Database engines, binding and the transaction helpers: ``write_transaction`` for every
write, ``read_transaction`` for reads that take no write lock (a pull, verify, the user of
an authenticated request).

SQLite: WAL, foreign keys, ``BEGIN IMMEDIATE`` for writes (a deferred transaction that
upgrades to a write lock fails with "database is locked" instead of waiting); reads on
connections kept open between transactions. PostgreSQL: a connection pool started in the
app lifespan.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote, urlparse

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

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


# --- read transactions ----------------------------------------------------------------------
#
# Piccolo opens a new SQLite connection for every transaction (and every query outside
# one): a new aiosqlite thread, the file opened, the schema (about 100 tables and indexes)
# parsed on the first statement, ``PRAGMA foreign_keys``, and all of it closed again at the
# end. For a small request that was the largest part of the server's work. Read
# transactions therefore take an idle connection from a small pool and give it back after
# ``COMMIT``: a connection outside a transaction holds no snapshot, and the next ``BEGIN``
# sees everything committed. Writes keep Piccolo's connections (``write_transaction``).

_IDLE_READERS = 4  # more concurrent readers open their own connection, closed after use


class _ReadPool:
    def __init__(self) -> None:
        self.engine: SQLiteEngine | None = None
        self.file: tuple[int, int] | None = None
        self.idle: list[aiosqlite.Connection] = []

    def _file(self, engine: SQLiteEngine) -> tuple[int, int] | None:
        try:
            st = os.stat(engine.path)
        except (OSError, TypeError, ValueError):
            return None
        return (st.st_dev, st.st_ino)

    async def acquire(self, engine: SQLiteEngine) -> aiosqlite.Connection:
        file = self._file(engine)
        if engine is not self.engine or file is None or file != self.file:
            # another database (tests, a new app), or the file was replaced (restore): start over
            stale, self.idle = self.idle, []
            self.engine, self.file = engine, file
            for conn in stale:
                await _close(conn)
        if self.idle:
            return self.idle.pop()
        conn = aiosqlite.connect(**engine.connection_kwargs)
        # A pooled connection lives as long as the process; its thread must not keep the
        # interpreter from exiting (aiosqlite's threads are not daemons).
        thread = getattr(conn, "_thread", None)
        if thread is not None:
            thread.daemon = True
        await conn
        conn.row_factory = dict_factory
        await conn.execute("PRAGMA foreign_keys = 1")
        return conn

    async def release(self, engine: SQLiteEngine, conn: aiosqlite.Connection, reuse: bool) -> None:
        thread = getattr(conn, "_thread", None)
        if (
            reuse
            and engine is self.engine
            and len(self.idle) < _IDLE_READERS
            and thread is not None
            and thread.daemon
            and not conn.in_transaction
        ):
            self.idle.append(conn)
        else:
            await _close(conn)

    async def clear(self) -> None:
        """Close the idle connections (the app stops; the next read opens new ones)."""
        stale, self.idle = self.idle, []
        self.engine = self.file = None
        for conn in stale:
            await _close(conn)


async def _close(conn: aiosqlite.Connection) -> None:
    try:
        await conn.close()
    except Exception:  # a connection that cannot close is dropped either way
        pass


_READ_POOL = _ReadPool()


class _PooledReadTransaction(SQLiteTransaction):
    """Piccolo's deferred SQLite transaction on a connection of ``_READ_POOL``."""

    async def get_connection(self) -> aiosqlite.Connection:
        return await _READ_POOL.acquire(self.engine)

    async def __aenter__(self) -> Any:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await _READ_POOL.release(self.engine, self.connection, reuse=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        ended = False
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            ended = True
        finally:
            self.engine.current_transaction.reset(self.context)
            await _READ_POOL.release(self.engine, self.connection, reuse=ended)
        return exception is None


@asynccontextmanager
async def read_transaction(*, snapshot: bool = True) -> AsyncIterator[Any]:
    """The transaction every read-only unit of work goes through; its queries (Piccolo's or
    raw on its connection) see one snapshot. SQLite: deferred, on a pooled connection.
    PostgreSQL: Piccolo's transaction on a connection of the pool (READ COMMITTED unless
    the caller sets another level first); with ``snapshot=False`` (a single statement,
    such as the user of a request) none of its own, which would only add BEGIN and COMMIT.
    Inside another transaction it is that one."""
    current = engine()
    if isinstance(current, SQLiteEngine):
        async with _PooledReadTransaction(current) as tx:
            yield tx
    elif snapshot:
        async with current.transaction() as tx:
            yield tx
    else:
        yield current.current_transaction.get()


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
    elif _READ_POOL.engine is db:
        await _READ_POOL.clear()

"""Database engines, binding and the transaction helpers: ``write_transaction`` for every
write, ``read_transaction`` for reads that take no write lock (a pull, verify, the user of
an authenticated request).

SQLite: WAL, foreign keys, ``BEGIN IMMEDIATE`` for writes (a deferred transaction that
upgrades to a write lock fails with "database is locked" instead of waiting); reads and
writes on connections kept open between transactions. PostgreSQL: a connection pool started in the
app lifespan.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import re
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from string import Formatter
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlparse

import aiosqlite
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

from server.settings import Settings

os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")

T = TypeVar("T")
log = logging.getLogger("revisit.db")


# --- deferred writes ---------------------------------------------------------------------------
#
# A write whose answer the caller does not need (``run_sql(defer=True)``: the rows a push
# writes, its bucket sums, its client record) is kept on the transaction's connection and
# sent with the connection's next statement, whatever it is (a query, Piccolo's own,
# COMMIT), so every read sees every earlier write. ``grouped`` statements (a table's row
# upsert, each writing its own row) run as one ``executemany`` per SQL text, at the place
# of the first of them: a push of 100 visits then sends one batch of visits (and one of
# the plans the cadence makes), not a statement per row (on PostgreSQL each was a round
# trip). Only statements that commute with every other deferred statement of another SQL
# text may be grouped.


class _Deferring:
    """What both engines' connections keep of deferred statements."""

    _pending: list[tuple[str, list[Sequence[Any]]]] | None = None
    _groups: dict[str, list[Sequence[Any]]] | None = None

    def defer(self, sql: str, params: Sequence[Any], *, grouped: bool = False) -> None:
        if self._pending is None or self._groups is None:
            self._pending, self._groups = [], {}
        if grouped and sql in self._groups:
            self._groups[sql].append(params)
            return
        rows = [params]
        self._pending.append((sql, rows))
        if grouped:
            self._groups[sql] = rows

    def take_deferred(self) -> list[tuple[str, list[Sequence[Any]]]]:
        """The deferred statements, in order, each with its rows; forgotten here (a failing
        one fails the transaction, which must not send the rest later)."""
        pending = self._pending or []
        self._pending, self._groups = None, None
        return pending

    def drop_deferred(self) -> None:
        self._pending, self._groups = None, None


_TARGET = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE)\s+(\w+)", re.IGNORECASE)
_PARAM = re.compile(r"\$(\d+)")


def _combined(writes: list[tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
    """Single-row writes to distinct tables as one statement: all but the last in ``WITH``
    (PostgreSQL runs each data-modifying part once, to completion), each one's ``$n``
    shifted past the parameters before it. Every deferred write is an ``INSERT ... ON
    CONFLICT`` into its own table or an ``UPDATE`` of one, reading no other table, so on
    distinct tables the parts cannot see or touch each other's rows: the same effects as
    sent one by one, in one round trip."""
    texts: list[str] = []
    args: list[Any] = []
    for sql, params in writes:
        shift = len(args)
        texts.append(_PARAM.sub(lambda m, by=shift: f"${int(m.group(1)) + by}", sql) if shift else sql)
        args.extend(params)
    ctes = ", ".join(f"w{i} AS ({text})" for i, text in enumerate(texts[:-1]))
    return (f"WITH {ctes} {texts[-1]}" if ctes else texts[-1]), args


class _PgConnection(_Deferring, asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection (every connection of the pool): each call that sends a
    statement first sends the deferred ones. A batch of rows goes as one ``executemany``;
    consecutive single-row writes to distinct tables (a push's client record, its results
    and its counter block, written while it holds the counter row) as one statement."""

    async def send_deferred(self) -> None:
        run: list[tuple[str, Sequence[Any]]] = []
        tables: set[str] = set()

        async def send_run() -> None:
            if run:
                sql, args = _combined(run)
                run.clear()
                tables.clear()
                await asyncpg.Connection.execute(self, sql, *args)

        for sql, rows in self.take_deferred():
            target = _TARGET.match(sql) if len(rows) == 1 else None
            if target is None or target.group(1).lower() in tables:
                await send_run()
            if target is None:
                await asyncpg.Connection.executemany(self, sql, rows)
            else:
                run.append((sql, rows[0]))
                tables.add(target.group(1).lower())
        await send_run()


def _after_deferred(name: str) -> Callable[..., Any]:
    method = getattr(asyncpg.Connection, name)

    async def call(self: _PgConnection, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], str) and args[0].lstrip()[:8].upper() == "ROLLBACK":
            # undone anyway (a ``ROLLBACK TO`` a savepoint undoes what came after it, and
            # everything deferred before it was sent with the SAVEPOINT); a failing one must
            # not keep the ROLLBACK from running
            self.drop_deferred()
        else:
            await self.send_deferred()
        return await method(self, *args, **kwargs)

    return call


for _name in ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany"):
    setattr(_PgConnection, _name, _after_deferred(_name))


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
    config["connection_class"] = _PgConnection  # deferred writes (above)
    return config


class _QueuedSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, except that a write made outside a transaction runs in
    ``write_transaction``. Piccolo would run it on a new connection of its own, where it
    waits for the write lock in SQLite's busy handler, past this process's queue of
    writers: one of 400 simultaneous sign-ins failed "busy" that way after 30 s, when
    each call site had to remember the queue. A ``SELECT`` (WAL readers take no lock)
    and a ``PRAGMA`` (``journal_mode`` cannot change inside a transaction) run as Piccolo
    runs them, on their connection's thread: a long report's query must not hold the
    event loop, as a read transaction's inline statements would."""

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        if query.lstrip()[:6].upper() in ("SELECT", "PRAGMA"):
            return await super()._run_in_new_connection(query, args, query_type, table)
        async with write_transaction() as tx:
            return await self._run_in_existing_connection(
                connection=tx.connection, query=query, args=args, query_type=query_type, table=table
            )


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return PostgresEngine(config=postgres_config(settings.database_url))
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return _QueuedSQLiteEngine(path=str(path), timeout=30)


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
_sqlite_writer: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
_holding: contextvars.ContextVar[bool] = contextvars.ContextVar("revisit_db_writer", default=False)


def per_loop(registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T], make: Callable[[], T]) -> T:
    """The running event loop's object in ``registry``, made on first use (asyncio objects
    belong to one loop; tests and CLI commands run several, one after the other)."""
    loop = asyncio.get_running_loop()
    found = registry.get(loop)
    if found is None:
        found = registry[loop] = make()
    return found


def _writer_lock() -> asyncio.Lock:
    return per_loop(_sqlite_writer, asyncio.Lock)


# PostgreSQL: the sync store's writers queue on the counter row's lock (R-CUR-1), each on a
# connection of the pool while it waits. With more writers waiting than the pool has
# connections, every read (a pull, the user of a request) waited behind them for a
# connection, as long as the writers did. So at most ``PG_WRITERS`` write transactions of a
# process hold connections at once (one committing, the next ones ready behind the lock);
# the others wait here, and reads keep the rest of the pool.
PG_WRITERS = 3
_pg_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _pg_writer_turn() -> asyncio.Semaphore:
    return per_loop(_pg_writers, lambda: asyncio.Semaphore(PG_WRITERS))


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
                async with _PooledTransaction(db, _WRITE_POOL, TransactionType.immediate) as tx:
                    yield tx
            finally:
                _holding.reset(token)
        _checkpointer().after_write(db.path)  # committed: its pages go to the file in the background
    elif db.current_transaction.get() is not None:  # nested: Piccolo joins it, no second slot
        async with _sending_deferred(db) as tx:
            yield tx
    else:
        async with _pg_writer_turn():
            async with _sending_deferred(db) as tx:
                yield tx


@asynccontextmanager
async def _sending_deferred(db: PostgresEngine) -> AsyncIterator[Any]:
    """Piccolo's PostgreSQL transaction; its deferred statements are sent before COMMIT,
    inside it (Piccolo does not release the connection when COMMIT itself fails). When it
    fails, its ROLLBACK forgets them (``_after_deferred``)."""
    async with db.transaction() as tx:
        yield tx
        await tx.connection.send_deferred()


# --- pooled SQLite connections ---------------------------------------------------------------
#
# Piccolo opens a new SQLite connection for every transaction (and every query outside
# one): a new aiosqlite thread, the file opened, the schema (about 100 tables and indexes)
# parsed on the first statement, ``PRAGMA foreign_keys``, and all of it closed again at the
# end. For a small request that was the largest part of the server's work, and for a write
# it was paid inside the single-writer lock, so every queued writer waited for it too.
# Transactions therefore take an idle connection from a small pool and give it back after
# ``COMMIT``: a connection outside a transaction holds no snapshot, and the next ``BEGIN``
# sees everything committed. Readers keep up to four idle connections; writers, one at a
# time behind the writer lock, one.
#
# Statements that never wait for a lock run on the event loop's own thread ("inline"):
# every statement of a read (in WAL mode a reader takes no lock), and a write
# transaction's statements between its ``BEGIN IMMEDIATE`` (which may wait for another
# process's write lock) and its ``COMMIT`` (the fsync, and now and then a WAL
# checkpoint); those two stay on the connection's thread, so the loop never sleeps in
# SQLite's busy handler or on the disk. A hand-off to the thread wakes it and passes the
# GIL back and forth: with 200 devices syncing at once the hand-offs (some 30,000 context
# switches a second) cost more CPU than the statements did. An inline statement does not
# yield to the loop, so a transaction that has kept the loop for ``INLINE_SLICE`` lets
# the other tasks run before its next statement.

INLINE_SLICE = 0.005  # seconds


class _Connection(_Deferring, aiosqlite.Connection):
    """aiosqlite's connection, with two ways to spare hand-offs to its thread.

    ``inline``: calls run on the event loop's thread (see above), the connection having
    been opened with ``check_same_thread=False``; one thread at a time uses it, as a
    transaction awaits each call.

    ``defer`` (``_Deferring``): statements whose answer no one waits for go with the next
    call, inline or on the thread; a write's last ones thus reach the thread with its
    COMMIT, in one hand-off. A read's BEGIN goes the same way, with its first statement. A
    deferred statement that fails raises from that next call, inside the same transaction,
    which then fails as a whole, as it would have."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self.inline = False
        self._slice_start = 0.0

    def run_inline(self, inline: bool) -> None:
        self.inline = inline
        self._slice_start = time.perf_counter()

    async def on_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn`` of the sqlite3 connection, on the connection's thread."""
        result: T = await super()._execute(fn, self._conn)
        return result

    def _run_deferred(self, conn: sqlite3.Connection) -> None:
        for sql, rows in self.take_deferred():
            if len(rows) == 1:
                conn.execute(sql, rows[0]).close()
            else:
                conn.executemany(sql, rows).close()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        conn = self._connection
        if self.inline and conn is not None:
            if time.perf_counter() - self._slice_start > INLINE_SLICE:
                await asyncio.sleep(0)  # the loop's other tasks first
                self._slice_start = time.perf_counter()
            self._run_deferred(conn)
            return fn(*args, **kwargs)
        if not self._pending:
            return await super()._execute(fn, *args, **kwargs)

        def run() -> Any:
            self._run_deferred(self._conn)
            return fn(*args, **kwargs)

        return await super()._execute(run)


class _ConnectionPool:
    def __init__(self, idle_max: int, *, reads: bool) -> None:
        self.idle_max = idle_max  # more concurrent users open their own connection, closed after use
        self.reads = reads  # read transactions only: every statement inline
        self.engine: SQLiteEngine | None = None
        self.file: tuple[int, int] | None = None
        self.idle: list[_Connection] = []

    def _file(self, engine: SQLiteEngine) -> tuple[int, int] | None:
        try:
            st = os.stat(engine.path)
        except (OSError, TypeError, ValueError):
            return None
        return (st.st_dev, st.st_ino)

    async def acquire(self, engine: SQLiteEngine) -> _Connection:
        file = self._file(engine)
        if engine is not self.engine or file is None or file != self.file:
            # another database (tests, a new app), or the file was replaced (restore): start over
            stale, self.idle = self.idle, []
            self.engine, self.file = engine, file
            for conn in stale:
                await _close(conn)
        if self.idle:
            return self.idle.pop()
        kwargs = dict(engine.connection_kwargs)
        kwargs["check_same_thread"] = False  # inline calls come from the event loop's thread
        path = kwargs.pop("database")
        conn = _Connection(partial(sqlite3.connect, str(path), **kwargs), 64)
        # A pooled connection lives as long as the process; its thread must not keep the
        # interpreter from exiting (aiosqlite's threads are not daemons).
        thread = getattr(conn, "_thread", None)
        if thread is not None:
            thread.daemon = True
        await conn
        conn.row_factory = dict_factory
        await conn.execute("PRAGMA foreign_keys = 1")
        if not self.reads:
            await conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints run apart (below)
        return conn

    async def release(self, engine: SQLiteEngine, conn: _Connection, reuse: bool) -> None:
        conn.drop_deferred()  # a transaction that did not end: nothing of it may run later
        conn.run_inline(False)
        thread = getattr(conn, "_thread", None)
        if (
            reuse
            and engine is self.engine
            and len(self.idle) < self.idle_max
            and thread is not None
            and thread.daemon
            and not conn.in_transaction
        ):
            self.idle.append(conn)
        else:
            await _close(conn)

    async def clear(self) -> None:
        """Close the idle connections (the app stops; the next transaction opens new ones)."""
        stale, self.idle = self.idle, []
        self.engine = self.file = None
        for conn in stale:
            await _close(conn)


async def _close(conn: aiosqlite.Connection) -> None:
    try:
        await conn.close()
    except Exception:  # a connection that cannot close is dropped either way
        pass


_READ_POOL = _ConnectionPool(idle_max=4, reads=True)
_WRITE_POOL = _ConnectionPool(idle_max=1, reads=False)


class _PooledTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a connection of ``pool``. ``bare``: no BEGIN and no
    COMMIT, for a single statement, which SQLite runs atomically on its own (the
    connections are in autocommit mode); each is a hand-off to the connection's thread."""

    __slots__ = ("bare", "pool")

    def __init__(self, engine: SQLiteEngine, pool: _ConnectionPool,
                 transaction_type: TransactionType = TransactionType.deferred, *, bare: bool = False) -> None:
        super().__init__(engine, transaction_type)
        self.pool = pool
        self.bare = bare

    async def begin(self) -> None:
        if self.pool.reads:
            self.connection.run_inline(True)
            if not self.bare:
                self.connection.defer(f"BEGIN {self.transaction_type.value}", ())  # with the first statement
            return
        if self.bare:
            return
        checkpoints = _checkpointer()
        if checkpoints.frames > WAL_BOUND and checkpoints.task is None:  # never wait for a running one
            await checkpoints.restart_wal(self.connection)
        await self.connection.execute(f"BEGIN {self.transaction_type.value}")  # on the thread: it may wait
        self.connection.run_inline(True)

    async def commit(self) -> None:
        if self.bare:
            self._committed = True
            return
        if not self.pool.reads:
            self.connection.run_inline(False)  # the fsync and any checkpoint on the thread
        await super().commit()

    async def rollback(self) -> None:
        if not self.pool.reads:
            self.connection.run_inline(False)
        self.connection.drop_deferred()  # rolled back anyway; a failing one must not stop the ROLLBACK
        if self.bare or not self.connection.in_transaction:  # nothing began (or BEGIN itself failed)
            self._rolled_back = True
        else:
            await super().rollback()

    async def get_connection(self) -> _Connection:
        return await self.pool.acquire(self.engine)

    async def __aenter__(self) -> Any:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await self.pool.release(self.engine, self.connection, reuse=False)
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
            await self.pool.release(self.engine, self.connection, reuse=ended)
        return exception is None


@asynccontextmanager
async def read_transaction(*, snapshot: bool = True) -> AsyncIterator[Any]:
    """The transaction every read-only unit of work goes through; its queries (Piccolo's or
    raw on its connection) see one snapshot. SQLite: deferred, on a pooled connection.
    PostgreSQL: Piccolo's transaction on a connection of the pool (READ COMMITTED unless
    the caller sets another level first). With ``snapshot=False`` (a single statement,
    such as the user of a request) no BEGIN and COMMIT on either database: they would
    only add two round trips.
    Inside another transaction it is that one."""
    current = engine()
    if isinstance(current, SQLiteEngine):
        async with _PooledTransaction(current, _READ_POOL, bare=not snapshot) as tx:
            yield tx
    elif snapshot:
        async with _sending_deferred(current) as tx:
            yield tx
    else:
        yield current.current_transaction.get()


# --- WAL checkpoints --------------------------------------------------------------------------
#
# A commit in WAL mode appends the transaction's pages to the -wal file; a checkpoint copies
# them back into the database file. SQLite's automatic checkpoint runs inside the commit
# that takes the WAL past 1,000 pages: every fifth or so push paid 20-70 ms for it inside
# the writer lock, and every writer queued behind it waited as long. The write connections
# therefore have automatic checkpoints off. After a write commits, a PASSIVE checkpoint
# (it takes no lock that a reader or the writer waits for, and waits for none) runs on a
# connection of its own in a worker thread: one at a time, at most every
# ``CHECKPOINT_EVERY`` seconds, and one more after the last write of a burst.
#
# Such a checkpoint copies the WAL but cannot start it over. SQLite starts the WAL over at
# a write when every page of it has been copied and no reader still reads from it; under
# steady writes another write has always come first, and with reads overlapping one
# another (pulls) some reader always reads from it. (SQLite's own checkpoint in the commit
# starves the same way: with a reader always open, 30,000 pages written left a WAL of
# 22,000.) So once a background checkpoint finds the WAL longer than ``WAL_BOUND`` pages,
# the next writer that finds none running runs a RESTART checkpoint before its BEGIN: it
# copies the little that is left, waits up to ``RESTART_WAIT`` for the readers of older
# snapshots to finish (new readers read from the database file meanwhile), and the WAL
# starts over. A longer reader (a backup) keeps the WAL for another ``CHECKPOINT_EVERY``.
# So the WAL stays within about ``WAL_BOUND`` pages plus what one ``CHECKPOINT_EVERY``
# writes.

CHECKPOINT_EVERY = 0.5  # seconds
WAL_BOUND = 4000  # pages: 16 MB with SQLite's default 4 kB page
RESTART_WAIT = 0.025  # seconds


class _Checkpointer:
    """The background checkpoints of one event loop's writes (see above)."""

    def __init__(self) -> None:
        self.frames = 0  # the WAL's length in pages at the last checkpoint
        self.path = ""  # the database the last write went to
        self.dirty = False  # a write committed since the running or last checkpoint began
        self.last = -CHECKPOINT_EVERY  # when the last checkpoint began (monotonic)
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def after_write(self, path: str) -> None:
        self.path, self.dirty = path, True
        self._schedule()

    def _schedule(self) -> None:
        if self.task is not None or self.timer is not None or not self.dirty:
            return
        wait = self.last + CHECKPOINT_EVERY - time.monotonic()
        if wait > 0:
            self.timer = asyncio.get_running_loop().call_later(wait, self._start)
        else:
            self._start()

    def _start(self) -> None:
        self.timer, self.dirty, self.last = None, False, time.monotonic()
        self.task = asyncio.get_running_loop().create_task(self._run(self.path))

    async def _run(self, path: str) -> None:
        try:
            frames = await asyncio.to_thread(self._checkpoint, path)
            if frames is not None:
                self.frames = frames
        except Exception:  # the WAL keeps every page; the next write's checkpoint tries again
            log.warning("background WAL checkpoint of %s failed", path, exc_info=True)
        finally:
            self.task = None
            self._schedule()

    @staticmethod
    def _checkpoint(path: str) -> int | None:
        """In a worker thread: the WAL's length after a PASSIVE checkpoint, on a connection
        opened for it (a few hundred µs every ``CHECKPOINT_EVERY``; one kept open would hold
        on to a file that a restore replaced). None if the database is gone: never create
        an empty one."""
        try:
            conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True)
        except sqlite3.OperationalError:
            return None
        try:
            _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
        return int(frames)

    async def _settle(self) -> None:
        """Until no checkpoint runs or waits to (one that ends may schedule the next)."""
        while True:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if self.task is None:
                return
            await asyncio.shield(self.task)

    async def restart_wal(self, conn: _Connection) -> None:
        """Before a write's BEGIN, on its connection's thread, while no background
        checkpoint runs: copy what is left of a long WAL and start it over (see above)."""
        try:
            await conn.on_thread(_restart_wal)
        except sqlite3.Error:  # the write goes on: its BEGIN answers for the connection
            log.warning("WAL restart checkpoint failed", exc_info=True)
        # started over, or a long reader kept it (a backup): in either case the next try
        # waits for a background checkpoint to find the WAL long again
        self.frames = 0

    async def close(self) -> None:
        """No checkpoint left running (the app stops; closing its last connection to the
        database then copies the rest of the WAL)."""
        await self._settle()
        self.dirty = False


def _restart_wal(conn: sqlite3.Connection) -> None:
    cursor = conn.cursor()
    cursor.row_factory = None
    (timeout,) = cursor.execute("PRAGMA busy_timeout").fetchone()
    cursor.execute(f"PRAGMA busy_timeout = {round(RESTART_WAIT * 1000)}")
    try:
        cursor.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        cursor.close()


_checkpointers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Checkpointer] = weakref.WeakKeyDictionary()


def _checkpointer() -> _Checkpointer:
    return per_loop(_checkpointers, _Checkpointer)


# --- raw SQL ----------------------------------------------------------------------------------


async def run_script(sql: str) -> None:
    """PostgreSQL: statements without parameters (``SET ...; SET ...``) in one round trip,
    on the current transaction's connection (the simple query protocol)."""
    tx = engine().current_transaction.get()
    assert tx is not None, "run_script runs inside a transaction"
    await tx.connection.execute(sql)


async def run_sql(
    sql: str, args: Sequence[Any], *, as_dicts: bool = True, defer: bool = False, grouped: bool = False
) -> Sequence[Any]:
    """Raw SQL with ``{}`` placeholders (as ``Table.raw`` takes it): rows as dicts, or with
    ``as_dicts=False`` as sequences in the SELECT's column order (SQLite tuples, PostgreSQL
    records). Inside a transaction (every sync store call) the statement goes straight to the
    transaction's connection: Piccolo's ``raw`` would also re-parse the template on every
    call and, on SQLite, send ``PRAGMA foreign_keys = 1`` before each statement (the
    connection has it on already, and inside a transaction the pragma does nothing), which
    doubles the hand-offs to aiosqlite's thread. Same SQL, same arguments, same rows.
    ``defer=True`` (a write whose answer the caller does not need, in a transaction): sent
    with the transaction's next statement or before its COMMIT, and returns no rows;
    ``grouped=True`` as well: sent in one ``executemany`` with the others of its SQL text
    (see "deferred writes" above).
    """
    current = engine()
    tx = current.current_transaction.get()
    if tx is None:
        rows = await current.run_querystring(QueryString(sql, *args))
        if isinstance(current, PostgresEngine):
            rows = [dict(r.items()) for r in rows]
        return rows if as_dicts else [tuple(r.values()) for r in rows]  # type: ignore[no-any-return]
    if isinstance(current, PostgresEngine):
        if defer and isinstance(getattr(tx.connection, "_con", tx.connection), _PgConnection):
            tx.connection.defer(_compiled(sql, "postgres"), args, grouped=grouped)  # sent with the next statement
            return []
        records = await tx.connection.fetch(_compiled(sql, "postgres"), *args)
        return [dict(r.items()) for r in records] if as_dicts else records  # type: ignore[no-any-return]
    connection = tx.connection
    if defer and isinstance(connection, _Connection):
        connection.defer(_compiled(sql, "sqlite"), args, grouped=grouped)  # sent with the transaction's next statement
        return []
    connection.row_factory = dict_factory if as_dicts else None
    try:
        # one hand-off to aiosqlite's thread (``execute`` + ``fetchall`` + closing the cursor were three)
        return list(await connection.execute_fetchall(_compiled(sql, "sqlite"), args))
    finally:
        connection.row_factory = dict_factory  # what Piccolo's own queries on it expect


_COMPILED: dict[tuple[str, str], str] = {}


def _compiled(sql: str, engine_type: str) -> str:
    """``{}`` to ``$n`` (PostgreSQL) or ``?`` (SQLite), parsed as Piccolo's QueryString does."""
    key = (sql, engine_type)
    text = _COMPILED.get(key)
    if text is None:
        parts: list[str] = []
        n = 0
        for literal, field_name, _, _ in Formatter().parse(sql):
            parts.append(literal)
            if field_name is not None:
                n += 1
                parts.append(f"${n}" if engine_type == "postgres" else "?")
        text = _COMPILED[key] = "".join(parts)
    return text


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
    else:
        await _checkpointer().close()
        for pool in (_READ_POOL, _WRITE_POOL):
            if pool.engine is db:
                await pool.clear()

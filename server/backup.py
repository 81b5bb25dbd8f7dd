"""Backups and restores (``revisit backup`` / ``revisit restore``).

SQLite: the online backup API copies a consistent snapshot while the server keeps
writing (WAL readers do not block writers), then ``PRAGMA integrity_check`` verifies the
copy. PostgreSQL: ``pg_dump -Fc``, verified by listing it with ``pg_restore --list``.

A restore puts the database back in an older state, so it also gives the database a new
sync epoch: every device's cursor then answers ``resync_required`` (R-CUR-4) and the
device re-syncs, keeping its outbox (R-PUSH-8).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlparse

from server.settings import Settings
from server.sync.store import EPOCH_KEY  # where the sync store reads the epoch (R-CUR-4)

__all__ = ["EPOCH_KEY", "BackupError", "backup", "restore"]
RESTORED_KEY = "restored_from"


class BackupError(RuntimeError):
    """A backup or restore that could not be made or did not verify; nothing was replaced."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: Literal["sqlite", "postgres"]
    size: int


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    epoch: str
    safety_copy: Path | None


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def default_dir(settings: Settings) -> Path:
    return settings.data_dir / "backups"


def _target(
    settings: Settings, output: Path | None, now: datetime, prefix: str = "revisit"
) -> Path:
    """``output`` may be a file, a directory, or None (the data dir's ``backups/``)."""
    suffix = ".dump" if settings.is_postgres else ".db"
    name = f"{prefix}-{_stamp(now)}{suffix}"
    if output is None:
        path = default_dir(settings) / name
    elif output.is_dir() or str(output).endswith(os.sep):
        path = output / name
    else:
        path = output
    if path.exists():
        raise BackupError(f"{path} already exists; not overwriting it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def backup(
    settings: Settings, output: Path | None = None, now: datetime | None = None
) -> BackupResult:
    """Write a verified backup of the configured database; return where it is."""
    now = now or datetime.now(UTC)
    path = _target(settings, output, now)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if settings.is_postgres:
            _pg_dump(settings.database_url, partial)
            verify_dump(partial)
        else:
            copy_sqlite(settings.sqlite_path, partial)
            verify_sqlite(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path, "postgres" if settings.is_postgres else "sqlite", path.stat().st_size)


# --- SQLite -----------------------------------------------------------------------------


def copy_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of a live database: one backup step is one read transaction,
    so the copy is the database as of one commit, WAL contents included."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst, pages=-1)
        # A backup is one self-contained file: no -wal sidecar to forget when copying it.
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"could not copy {source}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def verify_sqlite(path: Path) -> None:
    """``PRAGMA integrity_check`` says ok and the file is a Revisit database."""
    try:
        conn = sqlite3.connect(path)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be opened: {exc}") from exc
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"{path} failed the integrity check: {'; '.join(result[:5])}")
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    finally:
        conn.close()
    if not {"server_settings", "customers", "migration"} <= tables:
        raise BackupError(f"{path} is not a Revisit database (tables missing)")


def _set_epoch_sqlite(path: Path, epoch: str, source: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            for key, value in ((EPOCH_KEY, epoch), (RESTORED_KEY, source)):
                conn.execute(
                    "INSERT INTO server_settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def restore(settings: Settings, source: Path, now: datetime | None = None) -> RestoreResult:
    """Replace the database with the backup ``source`` and give it a new sync epoch.

    Every server process must be stopped first. The current database is kept as a
    backup (``revisit-pre-restore-*``) so a mistaken restore can be undone.
    """
    now = now or datetime.now(UTC)
    source = source.resolve()
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    epoch = uuid.uuid4().hex
    label = f"{source.name} at {now.astimezone(UTC).isoformat(timespec='seconds')}"
    if settings.is_postgres:
        verify_dump(source)
        safety = backup(settings, _target(settings, None, now, "revisit-pre-restore"), now)
        _pg_restore(settings.database_url, source)
        _run_sql_postgres(settings, epoch, label)
        return RestoreResult(source, epoch, safety.path)

    verify_sqlite(source)
    target = settings.sqlite_path
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".restoring")
    staged.unlink(missing_ok=True)
    try:
        copy_sqlite(source, staged)
        _set_epoch_sqlite(staged, epoch, label)
        verify_sqlite(staged)
        safety_path: Path | None = None
        if target.exists():
            safety_path = _target(settings, None, now, "revisit-pre-restore")
            copy_sqlite(target, safety_path)
        # A stale -wal next to the new file would be replayed into it: remove first.
        for sidecar in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            sidecar.unlink(missing_ok=True)
        staged.replace(target)
    finally:
        staged.unlink(missing_ok=True)
    return RestoreResult(source, epoch, safety_path)


def read_epoch_sqlite(path: Path) -> str | None:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT value FROM server_settings WHERE key = ?", (EPOCH_KEY,)
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_env(url: str) -> dict[str, str]:
    """libpq environment for ``url``: keeps the password off the command line."""
    parsed = urlparse(url)
    env = dict(os.environ)
    env["PGHOST"] = parsed.hostname or "127.0.0.1"
    env["PGPORT"] = str(parsed.port or 5432)
    env["PGUSER"] = unquote(parsed.username or "postgres")
    env["PGDATABASE"] = unquote((parsed.path or "/postgres").lstrip("/") or "postgres")
    if parsed.password:
        env["PGPASSWORD"] = unquote(parsed.password)
    sslmode = parse_qs(parsed.query).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode[0]
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client tools "
            "(the same major version as the server or newer)"
        )
    return path


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc.stdout


def _pg_dump(url: str, dest: Path) -> None:
    _run([_tool("pg_dump"), "--format=custom", "--file", str(dest)], pg_env(url), "pg_dump")


def verify_dump(path: Path) -> None:
    """A custom-format dump that ``pg_restore`` can read and that holds Revisit's tables."""
    listing = _run(
        [_tool("pg_restore"), "--list", str(path)], dict(os.environ), "pg_restore --list"
    )
    for table in ("server_settings", "customers", "migration"):
        if f"TABLE DATA public {table} " not in listing:
            raise BackupError(f"{path} is not a Revisit database dump (no data for {table})")


def _pg_restore(url: str, source: Path) -> None:
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            unquote((urlparse(url).path or "/").lstrip("/")),
            str(source),
        ],
        pg_env(url),
        "pg_restore",
    )


def _run_sql_postgres(settings: Settings, epoch: str, label: str) -> None:
    import asyncio

    async def run() -> None:
        import asyncpg

        from server.db import postgres_config

        conn = await asyncpg.connect(**postgres_config(settings.database_url))
        try:
            for key, value in ((EPOCH_KEY, epoch), (RESTORED_KEY, label)):
                await conn.execute(
                    "INSERT INTO server_settings (key, value) VALUES ($1, $2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    key,
                    value,
                )
            # pg_restore brings no planner statistics; until autovacuum collects them (if it
            # runs at all), PostgreSQL plans from defaults and may scan whole tables where an
            # index finds a few rows
            await conn.execute("ANALYZE")
        finally:
            await conn.close()

    asyncio.run(run())

"""Applying Piccolo migrations programmatically (``revisit migrate``, ``revisit serve``)."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards

from server import db
from server.settings import Settings
from server.sync import wire


class MigrationError(RuntimeError):
    pass


async def migrate(settings: Settings, *, quiet: bool = True) -> None:
    """Bring the database named by ``settings`` to the latest schema (idempotent)."""
    db.configure_database(settings)
    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        raise MigrationError(f"migrations failed: {result.message}\n{out.getvalue()}")
    await wire.forget_if_format_changed()  # the rows' kept JSON follows the schema
    if db.is_sqlite():
        await db.prepare_sqlite()

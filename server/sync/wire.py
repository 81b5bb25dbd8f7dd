"""Each synced row keeps its wire JSON beside it, so a pull sends it as it is.

A pull sends every field of every row (R-PULL-2). Converting each stored value to its wire
form and encoding the dicts was about half of an initial sync's server time; the sync
store's write already holds the row in wire form, so it also stores the row's JSON
(``wire``) and the change version it was made at (``wire_seq``). A pull uses ``wire`` when
``wire_seq`` is the row's ``seq``; otherwise (a row written by something else: an import,
the demo data, an older version of the server) it converts the stored values as before.
Every write of a synced row takes a new ``seq`` (R-CUR-1), so a kept JSON is never stale.

The JSON also depends on the schema (its fields and their wire forms): ``FORMAT`` is a
digest of it, and ``forget_if_format_changed`` (run by every migration) drops every kept
JSON when the digest differs from the one the database was written with. A release that
changes the synced fields cannot serve beside the previous one (docs/operations.md,
"Upgrading"): an old process would keep JSON of the old format.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from server import db
from sync.schema import TABLES, public_row
from sync.store import Row

COLUMNS = ("wire", "wire_seq")
FORMAT_KEY = "sync_wire_format"
RENDERING = 1  # raise when a kind's wire form changes (``server/sync/store.py`` ``_OUT``)
FORMAT = hashlib.sha256(
    repr((RENDERING, [(name, [(f.name, f.kind) for f in spec.fields.values()]) for name, spec in TABLES.items()]))
    .encode()
).hexdigest()[:16]

_encode = msgspec.json.Encoder().encode


def render(table: str, row: Row) -> bytes:
    """The row as a pull sends it: UTF-8 JSON, kept as bytes (a ``BLOB``/``BYTEA`` column)
    so that reading it back costs no decoding into a string."""
    return _encode(public_row(TABLES[table], row))


KEPT = "CASE WHEN wire_seq = seq THEN wire END"  # SQL: the row's JSON if kept for its current version


async def forget_if_format_changed() -> bool:
    """Drop the kept JSON of every row if the schema's wire format changed; True if it did."""
    async with db.write_transaction():
        rows = await db.run_sql("SELECT value FROM server_settings WHERE key = {}", (FORMAT_KEY,))
        if rows and rows[0]["value"] == FORMAT:
            return False
        for table in TABLES:
            await db.run_sql(f"UPDATE {table} SET wire = NULL, wire_seq = NULL WHERE wire IS NOT NULL", ())
        await db.run_sql(
            "INSERT INTO server_settings (key, value) VALUES ({}, {}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (FORMAT_KEY, FORMAT),
        )
    return True


def values(table: str, row: Row) -> list[Any]:
    """``COLUMNS``' values for a write of ``row``."""
    return [render(table, row), row["seq"]]

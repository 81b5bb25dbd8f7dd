"""Coordinates as 8-byte floats on PostgreSQL (``Real`` is float4 there, 8 bytes on
SQLite): a synced value must read back exactly as written on both backends (R-SCHEMA-1)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T15:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "double precision coordinates"

COLUMNS = [
    ("customers", "latitude"),
    ("customers", "longitude"),
    ("visits", "latitude"),
    ("visits", "longitude"),
    ("visits", "accuracy"),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="revisit", description=DESCRIPTION)

    async def run() -> None:
        from server.tables import Customer

        if Customer._meta.db.engine_type != "postgres":
            return  # SQLite REAL is already an 8-byte float
        for table, column in COLUMNS:
            await Customer.raw(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE DOUBLE PRECISION")

    manager.add_raw(run)
    return manager

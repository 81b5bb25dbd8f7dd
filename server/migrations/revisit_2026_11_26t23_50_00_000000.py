"""The kept wire JSON becomes bytes (``BLOB`` on SQLite, ``BYTEA`` on PostgreSQL): a pull
sends it as it is, and a ``TEXT`` value was decoded from UTF-8 into a string by the driver
only to be encoded back for the response (a fifth of an initial sync's server time on
SQLite). The column is made anew, so every kept JSON is dropped; rows are converted on
pull until their next write keeps it again (``server/sync/wire.py``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

from server.migrations.revisit_2026_11_26t16_40_00_000000 import SYNCED  # the tables that got ``wire``

ID = "2026-11-26T23:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kept wire JSON as bytes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="revisit", description=DESCRIPTION)

    async def run() -> None:
        from server.tables import ServerSetting

        kind = "BYTEA" if isinstance(ServerSetting._meta.db, PostgresEngine) else "BLOB"
        for table in SYNCED:
            await ServerSetting.raw(f"ALTER TABLE {table} DROP COLUMN wire")
            await ServerSetting.raw(f"ALTER TABLE {table} ADD COLUMN wire {kind}")
            await ServerSetting.raw(f"UPDATE {table} SET wire_seq = NULL")

    manager.add_raw(run)
    return manager

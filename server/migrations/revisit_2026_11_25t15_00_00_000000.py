"""A random sync epoch per database (R-CUR-4): cursors of another database resync."""

import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync epoch"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="revisit", description=DESCRIPTION)

    async def run() -> None:
        from server.tables import ServerSetting

        await ServerSetting.raw(
            "INSERT INTO server_settings (key, value) VALUES ({}, {}) ON CONFLICT (key) DO NOTHING",
            "sync_epoch",
            uuid.uuid4().hex,
        )

    manager.add_raw(run)
    return manager

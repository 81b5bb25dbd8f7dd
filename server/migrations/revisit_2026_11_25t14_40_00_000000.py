"""Shared rate-limit windows, so every server process counts the same attempts."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T14:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rate limit windows"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="revisit", description=DESCRIPTION)

    async def run() -> None:
        from server.tables import ServerSetting

        await ServerSetting.raw(
            "CREATE TABLE IF NOT EXISTS rate_limits ("
            " key VARCHAR(160) PRIMARY KEY,"
            " window_start BIGINT NOT NULL,"
            " hits INTEGER NOT NULL)"
        )

    manager.add_raw(run)
    return manager

"""Each synced row keeps its wire JSON beside it (``server/sync/wire.py``): ``wire`` and
the change version it was made at, ``wire_seq``. Both NULL until the row is next written
by the sync store; until then a pull converts the row's values as before."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kept wire JSON of synced rows"

SYNCED = (
    "regions", "gift_items", "cadence_rules", "users", "customers", "contacts", "visits", "gifts", "notes",
    "planned_revisits", "stock_movements", "conflicts",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="revisit", description=DESCRIPTION)

    async def run() -> None:
        from server.tables import ServerSetting

        for table in SYNCED:
            await ServerSetting.raw(f"ALTER TABLE {table} ADD COLUMN wire TEXT")
            await ServerSetting.raw(f"ALTER TABLE {table} ADD COLUMN wire_seq BIGINT")

    manager.add_raw(run)
    return manager

"""A customer's latest live visit from one index: ``visits (customer_id, deleted, started_at,
id)`` replaces the index on ``customer_id`` alone (every read by customer still uses it, by
its first column). The cadence looks up the latest visit of each customer a push names; with
this index that is one seek per customer, whatever the length of its history, and no table
row is read (``server/sync/store.py``, ``_histories_sql``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID

ID = "2026-11-27T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "latest-visit index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="revisit", description=DESCRIPTION)

    async def run() -> None:
        from server.tables import ServerSetting

        await ServerSetting.raw(
            "CREATE INDEX IF NOT EXISTS visits_customer_latest ON visits (customer_id, deleted, started_at, id)"
        )

    manager.add_raw(run)
    manager.alter_column(
        table_class_name="Visit",
        tablename="visits",
        column_name="customer_id",
        db_column_name="customer_id",
        params={"index": False},
        old_params={"index": True},
        column_class=UUID,
        old_column_class=UUID,
    )
    return manager

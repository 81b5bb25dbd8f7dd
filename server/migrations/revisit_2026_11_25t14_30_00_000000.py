"""Composite indexes for bucket scans (R-BUCKET) and the reminder sweep."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync and reminder indexes"

CUSTOMER_DATA = [
    "customers",
    "contacts",
    "visits",
    "gifts",
    "notes",
    "planned_revisits",
    "stock_movements",
    "conflicts",
]

STATEMENTS = [
    *(f"CREATE INDEX IF NOT EXISTS {t}_owner_seq ON {t} (owner_id, seq)" for t in CUSTOMER_DATA),
    *(f"CREATE INDEX IF NOT EXISTS {t}_region_seq ON {t} (region_id, seq)" for t in CUSTOMER_DATA),
    "CREATE INDEX IF NOT EXISTS users_region_seq ON users (region_id, seq)",
    "CREATE INDEX IF NOT EXISTS sync_removals_bucket_seq ON sync_removals (bucket, seq)",
    "CREATE INDEX IF NOT EXISTS planned_revisits_status_due ON planned_revisits (status, due_date)",
    "CREATE INDEX IF NOT EXISTS notification_log_status_due ON notification_log (status, due_at)",
    "INSERT INTO sync_counter (name, value) VALUES ('changes', 0)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="revisit", description=DESCRIPTION)
    for sql in STATEMENTS:
        manager.add_raw(_runner(sql))
    return manager


def _runner(sql: str):  # type: ignore[no-untyped-def]
    async def run() -> None:
        from server.tables import SyncCounter

        await SyncCounter.raw(sql)

    return run

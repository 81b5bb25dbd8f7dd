"""The single Piccolo app: all tables, migrations in ``server/migrations``."""

import os

from piccolo.conf.apps import AppConfig

from server.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="revisit",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)

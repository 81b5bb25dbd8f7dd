"""Piccolo's configuration module (``PICCOLO_CONF=server.piccolo_conf``).

``DB`` is replaced by :func:`server.db.configure_database` when the app starts, so the
engine always follows ``DATABASE_URL``; Piccolo reads this attribute on every lookup.
"""

from piccolo.conf.apps import AppRegistry

from server.db import make_engine
from server.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["server.piccolo_app"])

"""The sync protocol on the server: the Piccolo store, the write path and ``/api/sync``."""

"""Revisit's sync protocol core: pure Python, no web framework, no database driver.

See docs/sync-protocol.md; rule numbers (R-...) are cited where they are implemented.
"""

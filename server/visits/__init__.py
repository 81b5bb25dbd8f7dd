"""Visits: what happened when a rep saw a customer (create-only facts)."""

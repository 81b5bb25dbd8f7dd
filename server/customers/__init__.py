"""Customers: search, detail with timeline, create, profile edits, archive, reassignment."""

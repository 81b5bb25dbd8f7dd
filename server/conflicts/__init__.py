"""Conflict review: the losing side of concurrent edits, restorable by rep or manager (R-PUT-4)."""

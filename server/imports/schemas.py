"""Wire shapes of the customer import report."""

from __future__ import annotations

import msgspec


class ImportIssue(msgspec.Struct):
    """One problem: spreadsheet row (the header is row 1), column name, message."""

    row: int
    column: str | None
    message: str


class ImportReport(msgspec.Struct):
    encoding: str  # utf-8 | utf-8-sig | gbk
    rows: int
    creates: int
    updates: int
    unchanged: int
    invalid_rows: int
    errors: list[ImportIssue]  # at most MAX_ISSUES; ``invalid_rows`` counts them all
    ignored_columns: list[str]
    applied: bool

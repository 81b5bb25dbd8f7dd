"""CSV bytes in and out: Excel-friendly encoding and formula-safe cells.

Excel opens a CSV as UTF-8 only when it starts with a BOM, and saves "CSV" from a
Chinese Windows in GBK; both directions are handled here so the rest works on text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text as a spreadsheet will show it: a leading ``'`` keeps a formula inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def unsafe_cell(text: str) -> str:
    """The inverse of ``safe_cell`` on import: drop the ``'`` an export put in front."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def encode(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM and CRLF line ends, as Excel expects."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


class UnreadableFile(ValueError):
    """Not text in a known encoding, or not CSV."""


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding that read it: UTF-8 (with or without BOM), then GBK."""
    utf8 = "utf-8-sig" if data.startswith(BOM.encode("utf-8")) else "utf-8"
    for encoding in (utf8, "gbk"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the file is neither UTF-8 nor GBK text")


def read_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Header (trimmed, lower-case) and data rows; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [row for row in reader]
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KB field limit
        raise UnreadableFile(f"line {reader.line_num}: {exc}") from None
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        return [], []
    header = [h.strip().lower() for h in rows[0]]
    return header, [r for r in rows[1:] if any(cell.strip() for cell in r)]

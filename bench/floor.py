"""The floor no sync server can beat: SQLite and msgspec alone, no HTTP, no protocol.

* read: the same 10,000 rows a device gets at initial sync, straight from the Revisit
  SQLite file, ordered by version (``seq``), encoded to JSON with msgspec;
* write: 1,000 visit rows inserted in one transaction into a table of the same shape,
  in a WAL file with the same ``synchronous`` setting, committed durably.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import msgspec

from bench import data
from bench.common import Timing, now_ms
from sync.schema import TABLES

_encoder = msgspec.json.Encoder()


def read_floor(db_path: Path, rep_id: str, runs: int, warmup: int = 1) -> Timing:
    """SELECT the rep's customer and visit rows ordered by seq, encode as JSON (dicts)."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    out: list[float] = []
    count = 0
    nbytes = 0
    for i in range(warmup + runs):
        t0 = now_ms()
        rows = []
        for table in ("customers", "visits"):
            cur = conn.execute(f"SELECT {', '.join(TABLES[table].fields)} FROM {table} WHERE owner_id = ? ORDER BY seq", (rep_id,))
            rows.extend(dict(r) for r in cur)
        rows.sort(key=lambda r: r["seq"])
        body = _encoder.encode(rows)
        ms = now_ms() - t0
        count, nbytes = len(rows), len(body)
        if i >= warmup:
            out.append(ms)
    conn.close()
    return Timing(out, {"rows": count, "bytes": nbytes})


def write_floor(source_db: Path, scratch: Path, rep_id: str, runs: int, warmup: int = 1) -> Timing:
    """INSERT 1,000 visit rows in one transaction (WAL, the source's synchronous level)."""
    src = sqlite3.connect(source_db)
    schema = src.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='visits'").fetchone()[0]
    cols = list(TABLES["visits"].fields)  # the row's own columns, not the JSON Revisit keeps beside it
    sample = src.execute(f"SELECT {', '.join(cols)} FROM visits LIMIT 1").fetchone()
    src.close()
    conn = sqlite3.connect(scratch, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    sync_level = conn.execute("PRAGMA synchronous").fetchone()[0]
    conn.execute(schema)
    for extra in {r[1] for r in conn.execute("PRAGMA table_info(visits)")} - set(cols):
        conn.execute(f"ALTER TABLE visits DROP COLUMN {extra}")
    placeholders = ",".join("?" * len(cols))
    id_col = cols.index("id")
    seq_col = cols.index("seq")
    out: list[float] = []
    for i in range(warmup + runs):
        rows = []
        for k in range(1000):
            row = list(sample)
            row[id_col] = str(uuid.uuid4())
            row[seq_col] = i * 1000 + k + 1
            rows.append(row)
        t0 = now_ms()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO visits ({', '.join(cols)}) VALUES ({placeholders})", rows)
        conn.execute("COMMIT")
        ms = now_ms() - t0
        if i >= warmup:
            out.append(ms)
    conn.close()
    return Timing(out, {"synchronous": sync_level, "record_bytes": data.record_bytes(data.visit_record(0, rep_id))})

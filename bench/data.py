"""The benchmark's data: CRM visit records of about 300 bytes, the same for every system.

A record is ``{id, customer, rep, visited_at, notes, gifts}`` with Chinese notes and a
small gifts list. The peers store it as a JSON document; Revisit stores it as a
``visits`` row (``notes`` = the same text, ``outcome`` = the gifts list as JSON text),
so every system carries the same information. Records are a pure function of their
index, so Python and the Node peers see identical data.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

NAMESPACE = uuid.UUID("6f1d3c2a-9b8e-4f70-a1c2-5d6e7f8091a2")
BASE_TIME = dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC)

NOTES = (
    "客户对新品很感兴趣，希望下周送样品试用。",
    "店长反馈上月到货延迟，需要跟进物流。",
    "拜访顺利，确认了春节促销的陈列位置。",
    "客户抱怨价格偏高，建议提供阶梯折扣。",
    "新开门店，已介绍全部产品线并留下资料。",
)
GIFTS = (
    ("茶叶礼盒", "88.00"),
    ("品牌雨伞", "35.00"),
    ("台历", "12.50"),
    ("保温杯", "59.00"),
)


PEER_REP = "9a8b7c6d-0000-4000-8000-00000000beef"  # the peers' records belong to this rep


def record_id(i: int, salt: str = "visit") -> str:
    return str(uuid.uuid5(NAMESPACE, f"{salt}:{i}"))


def customer_id(rep: str, j: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"customer:{rep}:{j}"))


def visit_record(i: int, rep: str, customers: int = 100, salt: str = "visit") -> dict[str, Any]:
    """Record ``i`` of ``rep``: about 300 bytes of JSON."""
    gift_name, gift_value = GIFTS[i % len(GIFTS)]
    return {
        "id": record_id(i, f"{salt}:{rep}"),
        "customer": customer_id(rep, i % customers),
        "rep": rep,
        "visited_at": (BASE_TIME + dt.timedelta(minutes=7 * i)).isoformat().replace("+00:00", "Z"),
        "notes": f"{NOTES[i % len(NOTES)]} 第{i}次拜访。",
        "gifts": [{"item": gift_name, "qty": 1 + i % 3, "value": gift_value}],
    }


def records(n: int, rep: str, customers: int = 100, salt: str = "visit") -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield visit_record(i, rep, customers, salt)


def write_ndjson(path: Path, docs: Iterator[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
            count += 1
    return count


def visit_row(doc: dict[str, Any]) -> dict[str, Any]:
    """The same record as a Revisit ``visits`` create row (R-SCHEMA-1 wire form)."""
    return {
        "customer_id": doc["customer"],
        "started_at": doc["visited_at"],
        "purpose": "routine",
        "notes": doc["notes"],
        "outcome": json.dumps(doc["gifts"], ensure_ascii=False, separators=(",", ":")),
        "satisfaction": 4,
    }


def record_bytes(doc: dict[str, Any]) -> int:
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())

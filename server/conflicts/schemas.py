"""Wire types of the conflict endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

ConflictStatus = Literal["open", "restored", "dismissed"]


class ConflictPublic(msgspec.Struct):
    """``losing_value`` lost to ``winning_value`` on ``tbl``/``row_id``/``field``."""

    id: UUID
    tbl: str
    row_id: UUID
    field: str
    losing_value: Any
    losing_clock: str
    losing_author: UUID | None
    winning_value: Any
    winning_clock: str
    customer_id: UUID | None
    status: str
    created_at: datetime


class ConflictPage(msgspec.Struct):
    items: list[ConflictPublic]
    total: int
    limit: int
    offset: int

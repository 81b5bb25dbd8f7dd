"""Bounded limit/offset paging shared by every list endpoint."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

MAX_PAGE = 200

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description=f"page size, 1..{MAX_PAGE}")]
Offset = Annotated[
    int, QueryParameter(ge=0, le=10_000_000, description="rows to skip before the page")
]

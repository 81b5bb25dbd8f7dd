"""Wire types of the gift endpoints."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
ReviewStatus = Literal["none", "pending", "approved"]


class GiftCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``unit_value`` defaults to the catalog's; a gift over the yearly cap is kept and
    flagged for review, never refused (R-CREATE-3)."""

    customer_id: UUID
    item_id: UUID
    id: UUID | None = None
    visit_id: UUID | None = None
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 1
    unit_value: Decimal | None = None
    currency: Currency | None = None
    given_at: AwareDatetime | None = None


class GiftReview(msgspec.Struct, forbid_unknown_fields=True):
    review_status: ReviewStatus | msgspec.UnsetType = msgspec.UNSET
    review_comment: Annotated[str, msgspec.Meta(max_length=2000)] | msgspec.UnsetType = (
        msgspec.UNSET
    )


class GiftPublic(msgspec.Struct):
    id: UUID
    customer_id: UUID
    visit_id: UUID | None
    rep_id: UUID
    item_id: UUID
    quantity: int
    unit_value: Decimal
    currency: str
    value: Decimal
    given_at: datetime
    over_cap: bool
    review_status: str
    review_comment: str


class GiftPage(msgspec.Struct):
    items: list[GiftPublic]
    total: int
    limit: int
    offset: int

"""Wire types of ``/api/push/*`` and ``/api/reminders``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

Endpoint = Annotated[str, msgspec.Meta(min_length=10, max_length=2048)]
KeyText = Annotated[str, msgspec.Meta(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_\-=+/]+$")]
DeviceId = Annotated[str, msgspec.Meta(max_length=64)]


class SubscriptionKeys(msgspec.Struct, forbid_unknown_fields=True):
    p256dh: KeyText
    auth: KeyText


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    """``PushSubscription.toJSON()`` plus the app's device id."""

    endpoint: Endpoint
    keys: SubscriptionKeys
    device_id: DeviceId | None = None
    expirationTime: float | None = None


class SubscriptionDelete(msgspec.Struct, forbid_unknown_fields=True):
    """Remove one subscription (by endpoint) or every subscription of this device."""

    endpoint: Endpoint | None = None
    device_id: DeviceId | None = None


class SubscriptionOut(msgspec.Struct):
    id: UUID
    endpoint: str
    device_id: str
    created_at: datetime


class VapidPublicKey(msgspec.Struct):
    public_key: str  # base64url of the 65-byte uncompressed P-256 point (applicationServerKey)


class ReminderOut(msgspec.Struct):
    """One reminder of the in-app list (for browsers without push, e.g. iOS outside the home
    screen): the same payload the push message carried, whether or not a device got it."""

    id: UUID
    kind: str
    status: str
    due_at: datetime
    sent_at: datetime | None
    customer_id: UUID | None
    planned_revisit_id: UUID | None
    payload: dict[str, Any]

"""Storing and removing a user's push subscriptions (one per browser profile and endpoint)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from server.db import write_transaction
from server.errors import ApiError
from server.push.schemas import SubscriptionIn
from server.push.vapid import b64url_decode
from server.tables import PushSubscription

MAX_PER_USER = 10  # the oldest go first: a rep with a new phone does not keep pushing to the old


def check_endpoint(endpoint: str, *, allow_http: bool) -> None:
    """Only absolute https URLs (http only when the setting allows it, for a local service).

    The server POSTs to this URL, so anything else (other schemes, credentials in the URL)
    is refused with 400 rather than fetched."""
    parts = urlsplit(endpoint)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise ApiError(
            400, "validation", "endpoint must be an https URL of a push service at endpoint"
        )


def check_keys(p256dh: str, auth: str) -> None:
    try:
        point = b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise ApiError(400, "validation", "keys.p256dh is not a P-256 public key at keys.p256dh") from None
    try:
        secret = b64url_decode(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        raise ApiError(400, "validation", "keys.auth must be 16 bytes (base64url) at keys.auth")


async def save(user_id: uuid.UUID, sub: SubscriptionIn, *, allow_http: bool, now: datetime) -> dict[str, Any]:
    """Upsert by endpoint: the same browser re-subscribing (or another user logging in on it)
    replaces the row, so one endpoint never gets a reminder meant for someone else."""
    check_endpoint(sub.endpoint, allow_http=allow_http)
    check_keys(sub.keys.p256dh, sub.keys.auth)
    device = sub.device_id or ""
    async with write_transaction():
        await PushSubscription.delete().where(PushSubscription.endpoint == sub.endpoint)
        row = PushSubscription(
            id=uuid.uuid4(),
            user_id=user_id,
            device_id=device,
            endpoint=sub.endpoint,
            p256dh=sub.keys.p256dh,
            auth=sub.keys.auth,
            created_at=now,
        )
        await row.save()
        await _trim(user_id)
    return {"id": row.id, "endpoint": row.endpoint, "device_id": device, "created_at": now}


async def _trim(user_id: uuid.UUID) -> None:
    rows = (
        await PushSubscription.select(PushSubscription.id)
        .where(PushSubscription.user_id == user_id)
        .order_by(PushSubscription.created_at, ascending=False)
    )
    stale = [r["id"] for r in rows[MAX_PER_USER:]]
    if stale:
        await PushSubscription.delete().where(PushSubscription.id.is_in(stale))


async def remove(user_id: uuid.UUID, endpoint: str | None, device_id: str | None) -> int:
    """Delete the caller's own subscriptions by endpoint and/or device; returns how many."""
    if not endpoint and not device_id:
        raise ApiError(400, "validation", "give endpoint or device_id")
    query = PushSubscription.delete().where(PushSubscription.user_id == user_id)
    if endpoint:
        query = query.where(PushSubscription.endpoint == endpoint)
    if device_id:
        query = query.where(PushSubscription.device_id == device_id)
    result = await query.returning(PushSubscription.id)
    return len(result)


async def list_for(user_id: uuid.UUID) -> list[dict[str, Any]]:
    return await PushSubscription.select(
        PushSubscription.id,
        PushSubscription.endpoint,
        PushSubscription.device_id,
        PushSubscription.created_at,
    ).where(PushSubscription.user_id == user_id)


async def for_users(user_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    if not user_ids:
        return []
    return await PushSubscription.select().where(PushSubscription.user_id.is_in(user_ids))


async def drop(subscription_id: uuid.UUID) -> None:
    await PushSubscription.delete().where(PushSubscription.id == subscription_id)


async def mark_success(subscription_ids: list[uuid.UUID], now: datetime) -> None:
    if subscription_ids:
        await PushSubscription.update({PushSubscription.last_success_at: now}).where(
            PushSubscription.id.is_in(subscription_ids)
        )

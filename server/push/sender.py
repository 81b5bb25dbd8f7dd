"""Sending one encrypted message to one subscription, and classifying what came back.

One shared aiohttp session per process (pywebpush opens a new one per call otherwise),
a timeout on every request, a TTL (pywebpush's default of 0 drops the message when the
phone is offline), ``Urgency`` and ``Topic`` headers, and a fresh VAPID claims dict per
call (pywebpush writes ``aud``/``exp`` into the dict it is given).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import aiohttp
from pywebpush import WebPushException, webpush_async

from server.push.payloads import MAX_PAYLOAD_BYTES
from server.push.vapid import VapidKeys

log = logging.getLogger("revisit.push")

Outcome = Literal["sent", "gone", "retry", "failed"]
DEFAULT_TTL = 24 * 3600  # a reminder older than a day is not worth showing
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header
    error: str = ""


def topic_for(key: str) -> str:
    """RFC 8030 Topic: at most 32 URL-safe base64 characters; a newer message with the same
    topic replaces an undelivered older one at the push service."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def classify(status: int | None) -> Outcome:
    if status is not None and 200 <= status < 300:
        return "sent"
    if status in (404, 410):
        return "gone"
    if status is None or status == 429 or status >= 500:
        return "retry"
    return "failed"  # 400/401/403/413: our request or our key is wrong; retrying won't help


class PushSender:
    """Holds the shared session and the VAPID signer for one process."""

    def __init__(
        self,
        keys: VapidKeys,
        subject: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ttl: int = DEFAULT_TTL,
        concurrency: int = 16,
    ) -> None:
        self.keys = keys
        self.subject = subject
        self.timeout = timeout
        self.ttl = ttl
        self._session: aiohttp.ClientSession | None = None
        self._limit = asyncio.Semaphore(concurrency)

    async def __aenter__(self) -> PushSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def send(
        self,
        subscription: dict[str, Any],
        data: bytes,
        *,
        topic: str,
        urgency: str = "normal",
        now: datetime,
    ) -> SendResult:
        if len(data) > MAX_PAYLOAD_BYTES:
            return SendResult("failed", error=f"payload of {len(data)} bytes is too large")
        info = {
            "endpoint": subscription["endpoint"],
            "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]},
        }
        claims: dict[str, str | int] = {"sub": self.subject}  # fresh per call: it is mutated
        async with self._limit:
            try:
                response = await webpush_async(
                    info,
                    data.decode("utf-8"),
                    vapid_private_key=self.keys.signer,
                    vapid_claims=claims,
                    ttl=self.ttl,
                    timeout=self.timeout,
                    headers={"Urgency": urgency, "Topic": topic},
                    aiohttp_session=self._get_session(),
                )
            except WebPushException as exc:
                status = exc.status_code
                retry_after = parse_retry_after(exc.retry_after, now)
                return SendResult(classify(status), status, retry_after, _short(exc.message))
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                return SendResult("retry", None, None, f"{type(exc).__name__}: {exc}"[:300])
        status = getattr(response, "status", None)
        return SendResult(classify(status), status)


def _short(message: object) -> str:
    return str(message).splitlines()[0][:300] if message else ""

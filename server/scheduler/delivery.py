"""Claiming pending reminders atomically and sending them, once, with retries.

A claim is one ``UPDATE ... WHERE id IN (SELECT ... [FOR UPDATE SKIP LOCKED]) RETURNING``
that moves rows from ``pending`` to ``sending`` with a lease: two processes never claim the
same row (PostgreSQL skips rows another claim holds; SQLite runs the claim in a
``BEGIN IMMEDIATE`` transaction, one writer at a time). A process that dies mid-send leaves
its rows in ``sending``; they are claimed again when the lease runs out (at-least-once for
that crash window only; the push ``Topic`` then makes the service replace the first copy).

Rows of one user and kind claimed together go out as one message (a summary when several):
a rep with twenty customers due tomorrow gets one notification, not twenty.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from server import db
from server.push import subscriptions
from server.push.payloads import encode, fit, reminder_payload
from server.push.sender import PushSender, SendResult, topic_for
from server.scheduler.reminders import MAX_LATENESS, recipients, whole_seconds
from server.tables import NotificationLog

log = logging.getLogger("revisit.scheduler")

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
BATCH = 500

_CLAIM = """
UPDATE notification_log SET status = 'sending', next_attempt_at = {}
WHERE id IN (
    SELECT id FROM notification_log
    WHERE status IN ('pending', 'sending') AND due_at <= {}
      AND (next_attempt_at IS NULL OR next_attempt_at <= {})
    ORDER BY due_at
    LIMIT {} %s
)
AND status IN ('pending', 'sending') AND (next_attempt_at IS NULL OR next_attempt_at <= {})
RETURNING id, key, user_id, kind, payload, attempts, due_at
"""


@dataclass
class DeliveryReport:
    sent: int = 0  # log rows marked sent
    messages: int = 0  # push requests accepted by a push service
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    deferred: int = 0  # quiet hours
    no_device: int = 0
    gone_subscriptions: int = 0
    keys_sent: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        for name in ("sent", "messages", "retried", "failed", "dropped", "deferred", "no_device",
                     "gone_subscriptions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.keys_sent.extend(other.keys_sent)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential (30 s, 1 min, 2 min, ... capped at 1 h), never sooner than Retry-After."""
    delay = min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=min(retry_after, 6 * 3600)))
    return delay


async def claim(now: datetime, limit: int = BATCH) -> list[dict[str, Any]]:
    lock = "" if db.is_sqlite() else "FOR UPDATE SKIP LOCKED"
    async with db.write_transaction():
        rows = await NotificationLog.raw(_CLAIM % lock, now + LEASE, now, now, limit, now)
    for r in rows:
        if isinstance(r["user_id"], str):
            r["user_id"] = uuid.UUID(r["user_id"])
        if isinstance(r["id"], str):
            r["id"] = uuid.UUID(r["id"])
        if isinstance(r["due_at"], str):
            r["due_at"] = datetime.fromisoformat(r["due_at"])
    return rows


async def deliver(sender: PushSender, now: datetime, *, max_batches: int = 100) -> DeliveryReport:
    """Send everything that is due now; loops over batches until nothing is left."""
    now = whole_seconds(now)
    report = DeliveryReport()
    for _ in range(max_batches):
        rows = await claim(now)
        if not rows:
            break
        report.add(await _deliver_batch(sender, rows, now))
    return report


async def _deliver_batch(sender: PushSender, rows: list[dict[str, Any]], now: datetime) -> DeliveryReport:
    report = DeliveryReport()
    people = await recipients(r["user_id"] for r in rows)
    live: list[dict[str, Any]] = []
    for r in rows:
        person = people.get(r["user_id"])
        if person is None:
            await _finish([r], "failed", now, error="recipient is inactive or gone")
            report.failed += 1
        elif now - r["due_at"] > MAX_LATENESS:
            await _finish([r], "dropped", now, error="not delivered within a day")
            log.warning("dropped reminder %s: more than a day late", r["key"])
            report.dropped += 1
        elif person.clock.is_quiet(now):
            await _release([r], person.clock.next_allowed(now), attempts=r["attempts"])
            report.deferred += 1
        else:
            live.append(r)
    groups: dict[tuple[uuid.UUID, str], list[dict[str, Any]]] = defaultdict(list)
    for r in live:
        groups[(r["user_id"], r["kind"])].append(r)
    subs_by_user: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for s in await subscriptions.for_users(list({u for u, _ in groups})):
        subs_by_user[s["user_id"]].append(s)
    results = await asyncio.gather(
        *(
            _send_group(sender, group, subs_by_user.get(user, []), people[user].locale, now)
            for (user, _), group in groups.items()
        )
    )
    for r in results:
        report.add(r)
    return report


def _message(group: list[dict[str, Any]], locale: str) -> tuple[bytes, str]:
    """The push body for a group of rows and its Topic."""
    payloads = [msgspec.json.decode(r["payload"] or "{}") for r in group]
    kind = group[0]["kind"]
    if kind in ("due", "overdue"):
        items = [{k: p[k] for k in ("customer_id", "customer_name", "due_date", "tier",
                                    "planned_revisit_id")} for p in payloads]
        data = reminder_payload(kind, items, locale)
        topic_key = group[0]["key"] if len(group) == 1 else f"{kind}:{group[0]['user_id']}"
    else:
        data = fit(payloads[0]) if payloads[0] else encode({"kind": kind})
        topic_key = group[0]["key"]
    return data, topic_for(topic_key)


async def _send_group(
    sender: PushSender,
    group: list[dict[str, Any]],
    subs: list[dict[str, Any]],
    locale: str,
    now: datetime,
) -> DeliveryReport:
    report = DeliveryReport()
    data, topic = _message(group, locale)
    urgency = "high" if group[0]["kind"] == "overdue" else "normal"
    results: list[SendResult] = list(
        await asyncio.gather(*(sender.send(s, data, topic=topic, urgency=urgency, now=now) for s in subs))
    )
    ok = [s["id"] for s, res in zip(subs, results, strict=True) if res.outcome == "sent"]
    gone = [s for s, res in zip(subs, results, strict=True) if res.outcome == "gone"]
    for s in gone:
        await subscriptions.drop(s["id"])
        log.info("push subscription %s is gone (%s); removed", s["id"], s["endpoint"][:60])
    report.gone_subscriptions += len(gone)
    retry = [res for res in results if res.outcome == "retry"]
    errors = "; ".join(f"{res.status}: {res.error}" for res in results if res.outcome != "sent")
    attempts = max(r["attempts"] for r in group) + 1
    if ok:
        await subscriptions.mark_success(ok, now)
        await _finish(group, "sent", now, attempts=attempts, error=errors, sent_at=now)
        report.sent += len(group)
        report.messages += len(ok)
        report.keys_sent.extend(r["key"] for r in group)
    elif retry and attempts < MAX_ATTEMPTS:
        wait = backoff(attempts, max((r.retry_after or 0.0 for r in retry), default=None))
        await _release(group, now + wait, attempts=attempts, error=errors)
        report.retried += len(group)
    elif retry or any(res.outcome == "failed" for res in results):
        await _finish(group, "failed", now, attempts=attempts, error=errors)
        log.warning("reminder %s failed after %d attempts: %s", group[0]["key"], attempts, errors)
        report.failed += len(group)
    else:  # no subscription left: the in-app list (GET /api/reminders) still shows it
        await _finish(group, "no_device", now, attempts=attempts - 1, error=errors)
        report.no_device += len(group)
    return report


async def _finish(
    rows: list[dict[str, Any]],
    status: str,
    now: datetime,
    *,
    attempts: int | None = None,
    error: str = "",
    sent_at: datetime | None = None,
) -> None:
    values: dict[Any, Any] = {
        NotificationLog.status: status,
        NotificationLog.error: error[:1000],
        NotificationLog.next_attempt_at: None,
        NotificationLog.sent_at: sent_at,
    }
    if attempts is not None:
        values[NotificationLog.attempts] = attempts
    async with db.write_transaction():
        await NotificationLog.update(values).where(
            NotificationLog.id.is_in([r["id"] for r in rows]) & (NotificationLog.status == "sending")
        )


async def _release(
    rows: list[dict[str, Any]], when: datetime, *, attempts: int, error: str = ""
) -> None:
    async with db.write_transaction():
        await NotificationLog.update(
            {
                NotificationLog.status: "pending",
                NotificationLog.next_attempt_at: when,
                NotificationLog.attempts: attempts,
                NotificationLog.error: error[:1000],
            }
        ).where(
            NotificationLog.id.is_in([r["id"] for r in rows]) & (NotificationLog.status == "sending")
        )

"""The in-app list of a user's recent reminders (iOS delivers web push only to home-screen
apps, and a user may have turned push off): read from the notification log."""

from __future__ import annotations

import uuid

import msgspec

from server.push.schemas import ReminderOut
from server.tables import NotificationLog

LIMIT = 50
SHOWN = ("sent", "no_device", "failed")  # what reached, or should have reached, the user


async def recent(user_id: uuid.UUID) -> list[ReminderOut]:
    """The latest ``LIMIT`` reminders meant for the user (index notification_log(user_id))."""
    rows = (
        await NotificationLog.select(
            NotificationLog.id,
            NotificationLog.kind,
            NotificationLog.status,
            NotificationLog.due_at,
            NotificationLog.sent_at,
            NotificationLog.customer_id,
            NotificationLog.planned_revisit_id,
            NotificationLog.payload,
        )
        .where(
            (NotificationLog.user_id == user_id)
            & (NotificationLog.status.is_in(list(SHOWN)))
        )
        .order_by(NotificationLog.due_at, ascending=False)
        .limit(LIMIT)
    )
    out = []
    for row in rows:
        payload = msgspec.json.decode(row.pop("payload") or "{}")
        out.append(ReminderOut(**row, payload=payload))
    return out

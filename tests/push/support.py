"""Fixtures and seeding shared by the push, scheduler and planning tests."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.push.fake_service import FakePushService


@pytest.fixture
def fake_push() -> Iterator[FakePushService]:
    service = FakePushService().start()
    try:
        yield service
    finally:
        service.stop()


def allow_http(settings: Any) -> Any:
    """The fake service speaks plain http on 127.0.0.1."""
    return dataclasses.replace(settings, push_allow_http=True)


async def set_user(user_id: uuid.UUID, **values: Any) -> None:
    from server.tables import User

    await User.update({getattr(User, k): v for k, v in values.items()}).where(User.id == user_id)


async def add_rule(tier: str, interval_days: int, lead: int = 1, *, region_id: uuid.UUID | None = None,
                   stage: str | None = None) -> uuid.UUID:
    """Test seeding of reference data (admin CRUD is another area's endpoint)."""
    from server.tables import CadenceRule

    rule_id = uuid.uuid4()
    await CadenceRule.insert(CadenceRule(id=rule_id, tier=tier, region_id=region_id, stage=stage,
                                         interval_days=interval_days, reminder_lead_days=lead))
    return rule_id


async def add_customer(owner_id: uuid.UUID, region_id: uuid.UUID | None, name: str = "Acme",
                       tier: str = "A", stage: str = "active") -> uuid.UUID:
    from server.tables import Customer

    customer_id = uuid.uuid4()
    await Customer.insert(Customer(id=customer_id, name=name, tier=tier, stage=stage,
                                   owner_id=owner_id, region_id=region_id,
                                   created_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC)))
    return customer_id


async def add_plan(customer_id: uuid.UUID, due: date, *, rep_id: uuid.UUID,
                   region_id: uuid.UUID | None, source: str = "cadence") -> uuid.UUID:
    from server.tables import PlannedRevisit

    plan_id = uuid.uuid4()
    await PlannedRevisit.insert(PlannedRevisit(id=plan_id, customer_id=customer_id, rep_id=rep_id,
                                               owner_id=rep_id, region_id=region_id, due_date=due,
                                               source=source, status="planned"))
    return plan_id


async def log_rows(**where: Any) -> list[dict[str, Any]]:
    from server.tables import NotificationLog

    query = NotificationLog.select()
    for k, v in where.items():
        query = query.where(getattr(NotificationLog, k) == v)
    return await query


async def subscriptions_of(user_id: uuid.UUID) -> list[dict[str, Any]]:
    from server.tables import PushSubscription

    return await PushSubscription.select().where(PushSubscription.user_id == user_id)

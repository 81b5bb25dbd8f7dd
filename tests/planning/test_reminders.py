"""Reminders end to end: the database, the sweeps and the sender, against the local push
service that decrypts every message like a browser. Time is passed in, never slept for.

World: rob (rep, North, Asia/Shanghai = UTC+8, quiet 21:00-08:00 by default). A tier-A rule
with a one-day lead: a plan due on 10 March is reminded on 9 March at 08:00 local, which is
2026-03-09T00:00Z.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from server.push.sender import PushSender
from server.scheduler import delivery
from server.scheduler.sweeps import sweep
from tests.push.fake_service import BrowserSubscription, FakePushService
from tests.push.support import (
    add_customer,
    add_plan,
    add_rule,
    log_rows,
    set_user,
    subscriptions_of,
)
from tests.server.world import World

DUE = date(2026, 3, 10)
REMIND_AT = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)


async def subscribe(client: Any, app: Any, fake: FakePushService, person: Any,
                    script: list[int] | None = None, device: str = "phone") -> BrowserSubscription:
    sub = fake.subscribe(app.state.vapid.public_key, script)
    response = await client.post("/api/push/subscriptions", json=sub.to_json(device), headers=person.headers)
    assert response.status_code == 201, response.text
    return sub


async def plan_for(world: World, person: str = "rob", name: str = "王记茶庄", due: date = DUE) -> Any:
    p = world[person]
    customer = await add_customer(p.id, p.region_id, name=name, tier="A")
    return customer, await add_plan(customer, due, rep_id=p.id, region_id=p.region_id)


async def test_a_due_reminder_goes_out_once_at_the_local_reminder_time(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    sub = await subscribe(client, app, fake_push, world["rob"])
    customer, plan = await plan_for(world)
    sender = app.state.push_sender

    await sweep(sender, REMIND_AT - timedelta(minutes=1))
    assert fake_push.accepted() == []

    report = await sweep(sender, REMIND_AT)
    assert report.delivered.sent == 1
    [message] = fake_push.accepted(sub)
    body = message.payload
    assert body is not None
    assert (body["kind"], body["count"], body["customer_id"], body["customer_name"], body["due_date"], body["tier"]) == (
        "due", 1, str(customer), "王记茶庄", "2026-03-10", "A")
    assert body["planned_revisit_id"] == str(plan)
    assert body["url"] == f"/customers/{customer}"
    assert message.headers["urgency"] == "normal" and len(message.headers["topic"]) == 32

    for later in (timedelta(minutes=1), timedelta(hours=5), timedelta(hours=20)):
        await sweep(sender, REMIND_AT + later)
    assert len(fake_push.accepted()) == 1
    [row] = await log_rows(kind="due")
    assert (row["status"], row["attempts"], row["key"]) == ("sent", 1, f"due:{plan}:2026-03-09")
    assert row["sent_at"] == REMIND_AT


async def test_a_restart_in_between_does_not_send_it_again(
    client: Any, app: Any, database_url: str, tmp_path: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    await subscribe(client, app, fake_push, world["rob"])
    await plan_for(world)
    await sweep(app.state.push_sender, REMIND_AT + timedelta(seconds=30))
    assert len(fake_push.accepted()) == 1
    # a new process (``revisit scheduler --once``) on the same database, twice
    for later in (timedelta(minutes=2), timedelta(hours=3)):
        out = await scheduler_process(database_url, tmp_path, REMIND_AT + later)
        assert out["sent"] == 0 and out["planned"] == 0
    assert len(fake_push.accepted()) == 1


async def scheduler_process(database_url: str, data_dir: Any, now: datetime) -> dict[str, Any]:
    """Run ``revisit scheduler --once --now <now>`` as a separate OS process."""
    import os
    import sys

    env = {**os.environ, "DATABASE_URL": database_url, "REVISIT_DATA_DIR": str(data_dir)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "scheduler", "--once", "--now", now.isoformat(),
        "--log-level", "warning", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    result: dict[str, Any] = msgspec.json.decode(stdout.strip().splitlines()[-1])
    return result


async def test_downtime_catch_up_sends_a_missed_reminder_once(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    await subscribe(client, app, fake_push, world["rob"])
    await plan_for(world)
    back = REMIND_AT + timedelta(hours=6)  # 14:00 local: the server was down all morning
    report = await sweep(app.state.push_sender, back)
    assert (report.planned.pending, report.delivered.sent) == (1, 1)
    await sweep(app.state.push_sender, back + timedelta(minutes=1))
    assert len(fake_push.accepted()) == 1


async def test_reminders_more_than_a_day_late_are_dropped_and_logged(
    client: Any, app: Any, world: World, fake_push: FakePushService, caplog: Any
) -> None:
    await add_rule("A", 14, lead=1)
    await subscribe(client, app, fake_push, world["rob"])
    _, plan = await plan_for(world)
    report = await sweep(app.state.push_sender, REMIND_AT + timedelta(days=1, minutes=1))
    assert report.planned.dropped == 1 and report.delivered.sent == 0
    assert fake_push.all() == []
    [row] = await log_rows(planned_revisit_id=plan)
    assert row["status"] == "dropped" and "server was down" in row["error"]
    assert any("dropped 1 reminders" in r.getMessage() for r in caplog.records)


async def test_410_removes_the_subscription_and_the_reminder_stays_in_the_app_list(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    rob = world["rob"]
    await add_rule("A", 14, lead=1)
    await subscribe(client, app, fake_push, rob, script=[410])
    customer, _ = await plan_for(world)
    report = await sweep(app.state.push_sender, REMIND_AT)
    assert report.delivered.gone_subscriptions == 1
    assert await subscriptions_of(rob.id) == []
    [row] = await log_rows(kind="due")
    assert row["status"] == "no_device"
    listed = (await client.get("/api/reminders", headers=rob.headers)).json()
    assert [(r["kind"], r["customer_id"], r["payload"]["customer_name"]) for r in listed] == [
        ("due", str(customer), "王记茶庄")]
    assert (await client.get("/api/reminders", headers=world["rita"].headers)).json() == []


async def test_one_dead_device_does_not_stop_the_other(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    rob = world["rob"]
    await add_rule("A", 14, lead=1)
    dead = await subscribe(client, app, fake_push, rob, script=[404], device="old-phone")
    alive = await subscribe(client, app, fake_push, rob, device="tablet")
    await plan_for(world)
    await sweep(app.state.push_sender, REMIND_AT)
    assert len(fake_push.accepted(alive)) == 1 and fake_push.accepted(dead) == []
    assert [s["device_id"] for s in await subscriptions_of(rob.id)] == ["tablet"]
    [row] = await log_rows(kind="due")
    assert row["status"] == "sent"


async def test_500_is_retried_with_backoff(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    sub = await subscribe(client, app, fake_push, world["rob"], script=[500, 503])
    await plan_for(world)
    sender = app.state.push_sender
    first = await sweep(sender, REMIND_AT)
    assert first.delivered.retried == 1
    [row] = await log_rows(kind="due")
    assert row["status"] == "pending" and row["next_attempt_at"] == REMIND_AT + timedelta(seconds=30)
    await sweep(sender, REMIND_AT + timedelta(seconds=10))  # backoff not over: no request
    assert len(fake_push.all(sub)) == 1
    await sweep(sender, REMIND_AT + timedelta(seconds=30))  # 503 again: waits 60 s now
    [row] = await log_rows(kind="due")
    assert row["next_attempt_at"] == REMIND_AT + timedelta(seconds=90)
    await sweep(sender, REMIND_AT + timedelta(seconds=90))
    assert [d.status for d in fake_push.all(sub)] == [500, 503, 201]
    [row] = await log_rows(kind="due")
    assert (row["status"], row["attempts"]) == ("sent", 3)


async def test_429_honours_retry_after(client: Any, app: Any, world: World, fake_push: FakePushService) -> None:
    await add_rule("A", 14, lead=1)
    sub = await subscribe(client, app, fake_push, world["rob"], script=[429])
    await plan_for(world)
    fake_push.retry_after = "600"
    await sweep(app.state.push_sender, REMIND_AT)
    await sweep(app.state.push_sender, REMIND_AT + timedelta(seconds=599))
    assert len(fake_push.all(sub)) == 1
    await sweep(app.state.push_sender, REMIND_AT + timedelta(seconds=600))
    assert [d.status for d in fake_push.all(sub)] == [429, 201]


async def test_retries_give_up_after_max_attempts(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    await subscribe(client, app, fake_push, world["rob"], script=[500] * 10)
    await plan_for(world)
    now = REMIND_AT
    for _ in range(delivery.MAX_ATTEMPTS + 2):
        await sweep(app.state.push_sender, now)
        now += delivery.BACKOFF_CAP
    [row] = await log_rows(kind="due")
    assert (row["status"], row["attempts"]) == ("failed", delivery.MAX_ATTEMPTS)


async def test_quiet_hours_move_the_reminder_and_hold_a_catch_up(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    rob = world["rob"]
    await add_rule("A", 14, lead=1)
    await set_user(rob.id, quiet_start="21:00", quiet_end="09:30")
    await subscribe(client, app, fake_push, rob)
    await plan_for(world)
    await sweep(app.state.push_sender, REMIND_AT)  # 08:00 local: still quiet
    assert fake_push.accepted() == []
    await sweep(app.state.push_sender, REMIND_AT + timedelta(minutes=90))  # 09:30 local
    assert len(fake_push.accepted()) == 1

    # a reminder caught up at 22:00 local waits for the end of the quiet hours
    _, plan2 = await plan_for(world, name="Li's Pharmacy", due=DUE + timedelta(days=1))
    evening = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 22:00 local on the reminder day
    report = await sweep(app.state.push_sender, evening)
    assert report.delivered.deferred == 1 and len(fake_push.accepted()) == 1
    [row] = await log_rows(planned_revisit_id=plan2, kind="due")
    assert row["next_attempt_at"] == datetime(2026, 3, 11, 1, 30, tzinfo=UTC)  # 09:30 local
    await sweep(app.state.push_sender, datetime(2026, 3, 11, 1, 30, tzinfo=UTC))
    due = [d.payload["customer_name"] for d in fake_push.accepted() if d.payload["kind"] == "due"]  # type: ignore[index]
    assert due == ["王记茶庄", "Li's Pharmacy"]  # (the first plan is now overdue: its own reminder)


async def test_reminders_follow_the_reps_time_zone(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    rob = world["rob"]
    await add_rule("A", 14, lead=1)
    await set_user(rob.id, time_zone="Europe/Berlin")  # UTC+1 in March
    await subscribe(client, app, fake_push, rob)
    await plan_for(world)
    await sweep(app.state.push_sender, datetime(2026, 3, 9, 6, 59, tzinfo=UTC))
    assert fake_push.accepted() == []
    await sweep(app.state.push_sender, datetime(2026, 3, 9, 7, 0, tzinfo=UTC))  # 08:00 Berlin
    assert len(fake_push.accepted()) == 1


async def test_several_due_at_once_arrive_as_one_summary(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    sub = await subscribe(client, app, fake_push, world["rob"])
    for name in ("Acme", "Bolt", "Crane"):
        await plan_for(world, name=name)
    report = await sweep(app.state.push_sender, REMIND_AT)
    assert (report.delivered.sent, report.delivered.messages) == (3, 1)
    [message] = fake_push.accepted(sub)
    assert message.payload is not None
    assert message.payload["count"] == 3 and message.payload["url"] == "/"
    assert sorted(i["customer_name"] for i in message.payload["items"]) == ["Acme", "Bolt", "Crane"]


async def test_overdue_reminder_once_a_day(client: Any, app: Any, world: World, fake_push: FakePushService) -> None:
    await add_rule("A", 14, lead=1)
    sub = await subscribe(client, app, fake_push, world["rob"])
    _, plan = await plan_for(world, due=date(2026, 3, 1))
    day1 = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    for t in (day1, day1 + timedelta(hours=3), day1 + timedelta(hours=12)):
        await sweep(app.state.push_sender, t)
    await sweep(app.state.push_sender, day1 + timedelta(days=1))
    overdue = [d.payload for d in fake_push.accepted(sub) if d.payload and d.payload["kind"] == "overdue"]
    assert len(overdue) == 2 and overdue[0]["due_date"] == "2026-03-01"
    assert {r["key"] for r in await log_rows(kind="overdue")} == {
        f"overdue:{plan}:2026-03-09", f"overdue:{plan}:2026-03-10"}
    assert fake_push.accepted(sub)[0].headers["urgency"] == "high"


async def test_manager_morning_digest(client: Any, app: Any, world: World, fake_push: FakePushService) -> None:
    ann = world["ann"]
    await add_rule("A", 14, lead=1)
    sub = await subscribe(client, app, fake_push, ann)
    await plan_for(world, "rob", name="Overdue One", due=date(2026, 3, 1))
    await plan_for(world, "rita", name="Overdue Two", due=date(2026, 3, 2))
    await plan_for(world, "sue", name="Other region", due=date(2026, 3, 1))
    await add_customer(world["rob"].id, world.north, name="Forgotten")  # no plan at all
    await sweep(app.state.push_sender, REMIND_AT)
    await sweep(app.state.push_sender, REMIND_AT + timedelta(hours=2))
    [digest] = [d.payload for d in fake_push.accepted(sub)]
    assert digest is not None
    assert (digest["kind"], digest["overdue"], digest["forgotten"], digest["region_id"]) == (
        "digest", 2, 1, str(world.north))
    assert digest["title"] == "Revisit daily summary"


async def test_two_schedulers_at_once_send_each_reminder_once(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    """Two processes' worth of sweepers racing on one database (PostgreSQL: SKIP LOCKED
    claims; SQLite: one writer). Each reminder is claimed, and sent, by exactly one."""
    await add_rule("A", 14, lead=1)
    subs = {name: await subscribe(client, app, fake_push, world[name]) for name in ("rob", "rita", "sue")}
    for name in ("rob", "rita", "sue"):
        for i in range(4):
            await plan_for(world, name, name=f"{name}-{i}", due=DUE + timedelta(days=i % 2))
    later = REMIND_AT + timedelta(days=1, hours=1)
    async with PushSender(app.state.vapid, "mailto:a@example.com") as a, PushSender(
        app.state.vapid, "mailto:b@example.com"
    ) as b:
        for t in (REMIND_AT, later):
            await asyncio.gather(sweep(a, t), sweep(b, t), sweep(a, t), sweep(b, t))
    items = [i["planned_revisit_id"] for s in subs.values() for d in fake_push.accepted(s)
             for i in d.payload["items"]]  # type: ignore[index]
    assert len(items) == 12 and len(set(items)) == 12
    rows = await log_rows(kind="due")
    assert len(rows) == 12 and {r["status"] for r in rows} == {"sent"}


async def test_a_claim_of_a_crashed_process_is_taken_over_after_its_lease(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    from server.scheduler.sweeps import plan_all

    await add_rule("A", 14, lead=1)
    sub = await subscribe(client, app, fake_push, world["rob"])
    await plan_for(world)
    await plan_all(REMIND_AT)
    claimed = await delivery.claim(REMIND_AT)  # ... and the process dies before sending
    assert len(claimed) == 1
    await delivery.deliver(app.state.push_sender, REMIND_AT + timedelta(minutes=1))
    assert fake_push.all(sub) == []  # still leased to the dead process
    await delivery.deliver(app.state.push_sender, REMIND_AT + delivery.LEASE)
    assert len(fake_push.accepted(sub)) == 1
    await delivery.deliver(app.state.push_sender, REMIND_AT + 2 * delivery.LEASE)
    assert len(fake_push.accepted(sub)) == 1


async def test_payload_in_the_log_is_what_the_app_lists(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    await subscribe(client, app, fake_push, world["rob"])
    customer, plan = await plan_for(world)
    await sweep(app.state.push_sender, REMIND_AT)
    [row] = await log_rows(kind="due")
    stored = msgspec.json.decode(row["payload"])
    assert stored["planned_revisit_id"] == str(plan) and stored["customer_id"] == str(customer)


@pytest.mark.postgres
async def test_two_scheduler_processes_on_postgres_send_each_reminder_once(
    client: Any, app: Any, database_url: str, tmp_path: Any, world: World, fake_push: FakePushService
) -> None:
    """Two real ``revisit scheduler`` processes sweep one PostgreSQL at the same moments."""
    await add_rule("A", 14, lead=1)
    subs = {name: await subscribe(client, app, fake_push, world[name]) for name in ("rob", "rita", "sue")}
    expected = set()
    for name in ("rob", "rita", "sue"):
        for i in range(5):
            _, plan = await plan_for(world, name, name=f"{name}-{i}", due=DUE + timedelta(days=i % 2))
            expected.add(str(plan))
    for t in (REMIND_AT, REMIND_AT + timedelta(days=1, minutes=5)):
        outs = await asyncio.gather(*(scheduler_process(database_url, tmp_path, t) for _ in range(2)))
        assert all(o["sent"] >= 0 for o in outs)
    due = [i["planned_revisit_id"] for s in subs.values() for d in fake_push.accepted(s)
           if d.payload and d.payload["kind"] == "due" for i in d.payload["items"]]
    assert sorted(due) == sorted(expected)  # every reminder, each exactly once


async def test_the_app_runs_the_scheduler_and_catches_up_at_start(
    settings: Any, fake_push: FakePushService
) -> None:
    """``revisit serve`` with the scheduler on: the first run of every job is at start, so a
    reminder whose time passed while the server was down goes out without waiting."""
    import dataclasses
    from zoneinfo import ZoneInfo

    from server import db
    from server.app import create_app
    from server.push.schemas import SubscriptionIn
    from server.push.subscriptions import save
    from server.push.vapid import load_vapid_keys
    from server.scheduler.jobs import JOB_DEFAULTS
    from tests.conftest import running
    from tests.server.world import build_world

    db.configure_database(settings)  # the state the server finds when it starts
    world = await build_world(None)
    rob = world["rob"]
    zone = _zone_where_it_is_daytime()
    await set_user(rob.id, time_zone=zone, quiet_start="00:00", quiet_end="00:00")
    await add_rule("A", 14, lead=0)
    await plan_for(world, due=datetime.now(UTC).astimezone(ZoneInfo(zone)).date())
    sub = fake_push.subscribe((await load_vapid_keys()).public_key)
    await save(rob.id, msgspec.convert(sub.to_json("phone"), SubscriptionIn), allow_http=True,
               now=datetime.now(UTC))

    served = create_app(dataclasses.replace(settings, run_scheduler=True))
    async with running(served):
        jobs = {j.id: j for j in served.state.scheduler.get_jobs()}
        assert set(jobs) == {
            "due_reminders", "overdue_reminders", "manager_digest", "retry_deliveries", "compact_sync",
        }
        assert all(j.misfire_grace_time == JOB_DEFAULTS["misfire_grace_time"] and j.coalesce
                   for j in jobs.values())
        for _ in range(400):  # the jobs run on this loop: yield to it until the push arrives
            if fake_push.accepted(sub):
                break
            await asyncio.sleep(0.05)
        assert len(fake_push.accepted(sub)) == 1
        assert fake_push.accepted(sub)[0].payload["kind"] == "due"  # type: ignore[index]


def _zone_where_it_is_daytime() -> str:
    """A fixed-offset zone where the local time is now between 09:00 and 20:00."""
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    for offset in range(-12, 15):
        name = f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}" if offset else "Etc/UTC"
        if 9 <= now.astimezone(ZoneInfo(name)).hour < 20:
            return name
    raise AssertionError("no zone in daytime")

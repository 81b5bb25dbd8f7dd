"""Deciding which reminders are due: idempotent sweeps that write ``notification_log`` rows.

Each reminder has a unique key (``due:<plan>:<local day>``, ``overdue:<plan>:<local day>``,
``digest:<manager>:<local day>``). A sweep inserts the rows whose time has come with
``ON CONFLICT (key) DO NOTHING``, so running it twice, in two processes, or after a restart
adds nothing; delivery (``delivery.py``) then claims and sends each row once.

Missed reminders (the server was down) are inserted as ``pending`` on the next sweep and go
out once; those more than ``MAX_LATENESS`` late are inserted as ``dropped`` and logged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from server import db
from server.planning.cadence import CustomerFacts, Rule, reminder_day, reminder_lead
from server.planning.facts import load_rules
from server.push.payloads import digest_payload
from server.scheduler.localtime import LocalClock
from server.tables import NotificationLog, User

log = logging.getLogger("revisit.scheduler")

MAX_LATENESS = timedelta(days=1)
# PostgreSQL advisory lock ids, one per kind of sweep ("REVISIT" + 1, 2, 3): a process
# planning due reminders never makes another process skip its overdue or digest sweep.
PLANNING_LOCKS = {"due": 0x5245_5649_5349_5401, "overdue": 0x5245_5649_5349_5402,
                  "digest": 0x5245_5649_5349_5403}
_CHUNK = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class PlanReport:
    pending: int = 0
    dropped: int = 0  # more than MAX_LATENESS late
    skipped: int = 0  # digests with nothing to report
    keys: list[str] = field(default_factory=list)

    def add(self, other: PlanReport) -> None:
        self.pending += other.pending
        self.dropped += other.dropped
        self.skipped += other.skipped
        self.keys.extend(other.keys)


@dataclass(frozen=True)
class Recipient:
    id: uuid.UUID
    locale: str
    clock: LocalClock
    region_id: uuid.UUID | None


@dataclass(frozen=True)
class Candidate:
    key: str
    user_id: uuid.UUID
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    planned_revisit_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None


def whole_seconds(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).replace(microsecond=0)


@asynccontextmanager
async def planning_leader(kind: str) -> AsyncIterator[bool]:
    """On PostgreSQL only one process plans a kind of reminder at a time (a transaction-scoped
    advisory lock per kind); the others skip that planning step. Correctness never depends on
    it: keys are unique and claims are atomic. SQLite has one writer anyway."""
    lock = PLANNING_LOCKS[kind]
    if db.is_sqlite():
        yield True
        return
    async with db.engine().transaction():
        rows = await NotificationLog.raw("SELECT pg_try_advisory_xact_lock({}) AS ok", lock)
        yield bool(rows and rows[0]["ok"])


async def recipients(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Recipient]:
    ids = list({u for u in user_ids if u is not None})
    out: dict[uuid.UUID, Recipient] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = await User.select(
            User.id, User.locale, User.time_zone, User.quiet_start, User.quiet_end, User.region_id
        ).where(
            User.id.is_in(ids[start : start + _CHUNK])
            & (User.active == True)  # noqa: E712
            & (User.deleted == False)  # noqa: E712
        )
        for r in rows:
            out[r["id"]] = _recipient(r)
    return out


def _recipient(r: dict[str, Any]) -> Recipient:
    clock = LocalClock.of(r["time_zone"], r["quiet_start"], r["quiet_end"])
    return Recipient(r["id"], r["locale"] or "en", clock, r["region_id"])


def plan_item(row: dict[str, Any]) -> dict[str, Any]:
    """The per-customer part of a reminder payload (docs/scheduling.md, "Push payload")."""
    return {
        "customer_id": str(row["customer_id"]),
        "customer_name": row["name"],
        "due_date": _iso_day(row["due_date"]),
        "tier": row["tier"],
        "planned_revisit_id": str(row["plan_id"]),
    }


def _iso_day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- open plans in a due-date window ------------------------------------------------------

_OPEN_PLANS = """
SELECT p.id AS plan_id, p.customer_id AS customer_id, p.due_date AS due_date,
       p.rep_id AS rep_id, p.owner_id AS owner_id,
       c.name AS name, c.tier AS tier, c.stage AS stage, c.region_id AS region_id,
       c.archived AS archived, c.created_at AS created_at
FROM planned_revisits p JOIN customers c ON c.id = p.customer_id
WHERE p.status = 'planned' AND p.deleted = {} AND p.due_date >= {} AND p.due_date <= {}
"""


async def open_plans(lo: date, hi: date) -> list[dict[str, Any]]:
    """Open plans with ``lo <= due_date <= hi`` (index ``planned_revisits (status, due_date)``)."""
    rows = await NotificationLog.raw(_OPEN_PLANS, False, lo, hi)
    for r in rows:
        r["due_date"] = _as_date(r["due_date"])
    return [r for r in rows if not r["archived"]]


def _facts(row: dict[str, Any]) -> CustomerFacts:
    return CustomerFacts(
        id=row["customer_id"],
        tier=row["tier"],
        stage=row["stage"],
        region_id=row["region_id"],
        owner_id=row["owner_id"],
        created_at=_EPOCH,  # not used for reminder leads
    )


# --- the three kinds of reminder ---------------------------------------------------------


def due_candidates(
    rows: Iterable[dict[str, Any]], rules: list[Rule], people: dict[uuid.UUID, Recipient], now: datetime
) -> list[Candidate]:
    """A plan's reminder goes out ``reminder_lead_days`` before its due date, at the
    recipient's local reminder time, outside quiet hours."""
    out = []
    for row in rows:
        person = people.get(row["rep_id"] or row["owner_id"])
        if person is None:
            continue
        day = reminder_day(row["due_date"], reminder_lead(rules, _facts(row)))
        at = person.clock.reminder_at(day)
        if at > now or row["due_date"] < person.clock.today(now):
            continue  # not yet; or already overdue (the overdue reminder takes over)
        out.append(_reminder("due", row, person, day, at))
    return out


def overdue_candidates(
    rows: Iterable[dict[str, Any]], people: dict[uuid.UUID, Recipient], now: datetime
) -> list[Candidate]:
    """Once a day per overdue plan (grouped into one message per user at delivery)."""
    out = []
    for row in rows:
        person = people.get(row["rep_id"] or row["owner_id"])
        if person is None:
            continue
        today = person.clock.today(now)
        if row["due_date"] >= today:
            continue
        at = person.clock.reminder_at(today)
        if at > now:
            continue
        out.append(_reminder("overdue", row, person, today, at))
    return out


def _reminder(kind: str, row: dict[str, Any], person: Recipient, day: date, at: datetime) -> Candidate:
    return Candidate(
        key=f"{kind}:{row['plan_id']}:{day.isoformat()}",
        user_id=person.id,
        kind=kind,
        due_at=at,
        payload={"kind": kind, "locale": person.locale, **plan_item(row)},
        planned_revisit_id=row["plan_id"],
        customer_id=row["customer_id"],
    )


async def plan_due(now: datetime) -> PlanReport:
    now = whole_seconds(now)
    rules = await load_rules()
    max_lead = max([r.reminder_lead_days for r in rules] + [1])
    # Local "today" is within a day of UTC's; reminders up to MAX_LATENESS late still count.
    rows = await open_plans(now.date() - timedelta(days=2), now.date() + timedelta(days=max_lead + 1))
    people = await recipients(r["rep_id"] or r["owner_id"] for r in rows)
    return await insert(due_candidates(rows, rules, people, now), now)


async def plan_overdue(now: datetime) -> PlanReport:
    now = whole_seconds(now)
    rows = await open_plans(date(1970, 1, 1), now.date())
    people = await recipients(r["rep_id"] or r["owner_id"] for r in rows)
    return await insert(overdue_candidates(rows, people, now), now)


_REGION_OVERDUE = """
SELECT COUNT(DISTINCT p.customer_id) AS n
FROM planned_revisits p JOIN customers c ON c.id = p.customer_id
WHERE p.region_id = {} AND p.status = 'planned' AND p.deleted = {} AND p.due_date < {}
  AND c.archived = {} AND c.deleted = {}
"""

_REGION_FORGOTTEN = """
SELECT COUNT(*) AS n FROM customers c
WHERE c.region_id = {} AND c.archived = {} AND c.deleted = {}
  AND NOT EXISTS (SELECT 1 FROM planned_revisits p
                  WHERE p.customer_id = c.id AND p.status = 'planned' AND p.deleted = {})
"""


async def plan_digest(now: datetime) -> PlanReport:
    """Each manager's morning digest: overdue and forgotten customers of the region."""
    now = whole_seconds(now)
    managers = await User.select(
        User.id, User.locale, User.time_zone, User.quiet_start, User.quiet_end, User.region_id
    ).where((User.role == "manager") & (User.active == True) & (User.deleted == False))  # noqa: E712
    candidates = []
    for row in managers:
        person = _recipient(row)
        if person.region_id is None:
            continue
        today = person.clock.today(now)
        at = person.clock.reminder_at(today)
        key = f"digest:{person.id}:{today.isoformat()}"
        if at > now or await _exists(key):
            continue
        overdue = await NotificationLog.raw(_REGION_OVERDUE, person.region_id, False, today, False, False)
        forgotten = await NotificationLog.raw(
            _REGION_FORGOTTEN, person.region_id, False, False, False
        )
        n_overdue, n_forgotten = int(overdue[0]["n"]), int(forgotten[0]["n"])
        payload = msgspec.json.decode(
            digest_payload(str(person.region_id), n_overdue, n_forgotten, person.locale, today.isoformat())
        )
        candidates.append(
            Candidate(key=key, user_id=person.id, kind="digest", due_at=at, payload=payload)
        )
    return await insert(candidates, now, empty_digest_dropped=True)


async def _exists(key: str) -> bool:
    return await NotificationLog.exists().where(NotificationLog.key == key)


# --- writing the log rows ----------------------------------------------------------------


async def insert(candidates: list[Candidate], now: datetime, *, empty_digest_dropped: bool = False) -> PlanReport:
    report = PlanReport()
    fresh = await _without_existing(candidates)
    rows = []
    for c in fresh:
        status, error = "pending", ""
        if now - c.due_at > MAX_LATENESS:
            status, error = "dropped", "missed by more than a day (server was down)"
        elif empty_digest_dropped and c.kind == "digest" and not (
            c.payload.get("overdue") or c.payload.get("forgotten")
        ):
            status, error = "skipped", "nothing to report"
        rows.append(
            NotificationLog(
                id=uuid.uuid4(),
                key=c.key,
                user_id=c.user_id,
                kind=c.kind,
                planned_revisit_id=c.planned_revisit_id,
                customer_id=c.customer_id,
                payload=msgspec.json.encode(c.payload).decode(),
                status=status,
                attempts=0,
                next_attempt_at=None,
                due_at=c.due_at,
                sent_at=None,
                error=error,
                created_at=now,
            )
        )
    for start in range(0, len(rows), 200):
        chunk = rows[start : start + 200]
        inserted = await (
            NotificationLog.insert(*chunk)
            .on_conflict(target=NotificationLog.key, action="DO NOTHING")
            .returning(NotificationLog.key, NotificationLog.status)
        )
        for r in inserted:
            report.keys.append(r["key"])
            if r["status"] == "dropped":
                report.dropped += 1
            elif r["status"] == "skipped":
                report.skipped += 1
            else:
                report.pending += 1
    late = [r for r in rows if r.status == "dropped"]
    if late:
        log.warning("dropped %d reminders missed by more than a day: %s", len(late),
                    ", ".join(r.key for r in late[:20]))
    return report


async def _without_existing(candidates: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    unique = []
    for c in candidates:
        if c.key not in seen:
            seen.add(c.key)
            unique.append(c)
    existing: set[str] = set()
    keys = [c.key for c in unique]
    for start in range(0, len(keys), _CHUNK):
        rows = await NotificationLog.select(NotificationLog.key).where(
            NotificationLog.key.is_in(keys[start : start + _CHUNK])
        )
        existing.update(r["key"] for r in rows)
    return [c for c in unique if c.key not in existing]

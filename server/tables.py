"""Piccolo tables: the persistent shape of Revisit.

Synced tables carry the sync metadata of docs/sync-protocol.md: ``seq`` (the server's
change version, R-CUR), ``clocks`` (JSON object field -> HLC of its last write, R-MERGE),
``deleted`` (tombstone, R-DEL) and, for customer data, ``owner_id``/``region_id``
(denormalised from the customer so a bucket is one indexed range scan, R-BUCKET).
"""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import (
    UUID,
    BigInt,
    Boolean,
    Date,
    Integer,
    Numeric,
    Real,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


def _seq() -> BigInt:
    return BigInt(default=0, index=True)


# --- configuration and reference data -------------------------------------------------


class ServerSetting(Table, tablename="server_settings"):
    """Secrets and keys created on first start (token key, VAPID key, database epoch)."""

    key = Varchar(length=64, primary_key=True)
    value = Text()


class Region(Table, tablename="regions"):
    id = UUID(primary_key=True)
    name = Varchar(length=120, unique=True)
    time_zone = Varchar(length=64, default="Asia/Shanghai")
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class User(Table, tablename="users"):
    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=120)
    role = Varchar(length=16)  # rep | manager | admin
    region_id = UUID(null=True, index=True)
    locale = Varchar(length=8, default="en")
    time_zone = Varchar(length=64, default="Asia/Shanghai")
    quiet_start = Varchar(length=5, default="21:00")  # local HH:MM
    quiet_end = Varchar(length=5, default="08:00")
    active = Boolean(default=True)
    password_hash = Text()
    token_version = Integer(default=0)  # bumped to revoke every token of the user
    created_at = Timestamptz(default=TimestamptzNow())
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class RefreshToken(Table, tablename="refresh_tokens"):
    id = UUID(primary_key=True)
    user_id = UUID(index=True)
    token_hash = Varchar(length=64, unique=True)
    device_id = Varchar(length=64, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class GiftItem(Table, tablename="gift_items"):
    id = UUID(primary_key=True)
    name_en = Varchar(length=120)
    name_zh = Varchar(length=120)
    unit_value = Numeric(digits=(12, 2))
    currency = Varchar(length=3, default="CNY")
    yearly_cap = Numeric(digits=(12, 2))  # per customer and calendar year, in value
    active = Boolean(default=True)
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class CadenceRule(Table, tablename="cadence_rules"):
    id = UUID(primary_key=True)
    tier = Varchar(length=1)  # A | B | C
    region_id = UUID(null=True)
    stage = Varchar(length=16, null=True)
    interval_days = Integer()
    reminder_lead_days = Integer(default=1)
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


# --- customer data (rep and region buckets) ------------------------------------------


class Customer(Table, tablename="customers"):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    kind = Varchar(length=16, default="business")  # consumer|business|channel|internal
    tier = Varchar(length=1, default="C")
    key_account = Boolean(default=False)
    stage = Varchar(length=16, default="prospect")
    owner_id = UUID(null=True, index=True)
    region_id = UUID(null=True, index=True)
    address = Text(default="")
    latitude = Real(null=True, default=None)
    longitude = Real(null=True, default=None)
    phone = Varchar(length=40, default="")
    tags = Text(default="[]")  # JSON list of strings
    preferences = Text(default="")
    external_id = Varchar(length=80, null=True, unique=True, default=None)
    archived = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class Contact(Table, tablename="contacts"):
    id = UUID(primary_key=True)
    customer_id = UUID(index=True)
    owner_id = UUID(null=True)
    region_id = UUID(null=True)
    name = Varchar(length=120)
    title = Varchar(length=120, default="")
    phone = Varchar(length=40, default="")
    email = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class Visit(Table, tablename="visits"):
    id = UUID(primary_key=True)
    customer_id = UUID()  # indexed with deleted, started_at and id: visits_customer_latest (a migration)
    rep_id = UUID(index=True)
    owner_id = UUID(null=True)
    region_id = UUID(null=True)
    planned_for = Date(null=True, default=None)
    started_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    latitude = Real(null=True, default=None)
    longitude = Real(null=True, default=None)
    accuracy = Real(null=True, default=None)
    purpose = Varchar(length=32, default="routine")
    outcome = Text(default="")
    satisfaction = SmallInt(null=True, default=None)
    order_value = Numeric(digits=(14, 2), default=Decimal("0"))
    currency = Varchar(length=3, default="CNY")
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class Gift(Table, tablename="gifts"):
    id = UUID(primary_key=True)
    customer_id = UUID(index=True)
    visit_id = UUID(null=True, default=None)
    rep_id = UUID(index=True)
    owner_id = UUID(null=True)
    region_id = UUID(null=True)
    item_id = UUID()
    quantity = Integer(default=1)
    unit_value = Numeric(digits=(12, 2))
    currency = Varchar(length=3, default="CNY")
    given_at = Timestamptz()
    over_cap = Boolean(default=False)
    review_status = Varchar(length=16, default="none")  # none | pending | approved
    review_comment = Text(default="")
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class Note(Table, tablename="notes"):
    id = UUID(primary_key=True)
    customer_id = UUID(index=True)
    author_id = UUID()
    owner_id = UUID(null=True)
    region_id = UUID(null=True)
    kind = Varchar(length=16, default="note")  # note | complaint | feedback
    body = Text()
    status = Varchar(length=16, null=True, default=None)  # complaints: open | resolved
    resolved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class PlannedRevisit(Table, tablename="planned_revisits"):
    id = UUID(primary_key=True)
    customer_id = UUID(index=True)
    rep_id = UUID(null=True)
    owner_id = UUID(null=True)
    region_id = UUID(null=True)
    due_date = Date()
    source = Varchar(length=16, default="cadence")  # cadence | manual
    status = Varchar(length=16, default="planned")  # planned | done | skipped | cancelled
    created_at = Timestamptz(default=TimestamptzNow())
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class StockMovement(Table, tablename="stock_movements"):
    """A rep's gift stock is the sum of its movements (create-only facts)."""

    id = UUID(primary_key=True)
    rep_id = UUID(index=True)
    item_id = UUID()
    delta = Integer()
    reason = Varchar(length=32, default="adjust")  # adjust | gift | restock
    created_at = Timestamptz(default=TimestamptzNow())
    owner_id = UUID(null=True)
    region_id = UUID(null=True)
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


class Conflict(Table, tablename="conflicts"):
    """The losing side of a concurrent field write, kept so nothing is silently lost."""

    id = UUID(primary_key=True)
    tbl = Varchar(length=32)
    row_id = UUID()
    field = Varchar(length=64)
    losing_value = Text()  # JSON
    losing_clock = Varchar(length=64)
    losing_author = UUID(null=True)
    winning_value = Text()  # JSON
    winning_clock = Varchar(length=64)
    customer_id = UUID(null=True)
    owner_id = UUID(null=True)
    region_id = UUID(null=True)
    status = Varchar(length=16, default="open")  # open | restored | dismissed
    created_at = Timestamptz(default=TimestamptzNow())
    seq = _seq()
    clocks = Text(default="{}")
    deleted = Boolean(default=False)


# --- sync bookkeeping -------------------------------------------------------------------


class SyncCounter(Table, tablename="sync_counter"):
    """One row: the last change version handed out. Its row lock orders commits (R-CUR-3)."""

    name = Varchar(length=32, primary_key=True)
    value = BigInt(default=0)


class SyncClient(Table, tablename="sync_clients"):
    client_id = Varchar(length=64, primary_key=True)
    user_id = UUID(index=True)
    last_n = BigInt(default=0)  # last applied mutation number
    pulled_seq = BigInt(default=0)  # lowest position this device still needs
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen = Timestamptz(default=TimestamptzNow())


class SyncResult(Table, tablename="sync_results"):
    """The outcome of each applied mutation, returned again on replay (R-PUSH idempotency)."""

    key = Varchar(length=100, primary_key=True)  # "<client_id>:<n>"
    result = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class SyncRemoval(Table, tablename="sync_removals"):
    """A row that left a bucket (reassignment): the bucket's devices must drop it."""

    id = Serial(primary_key=True)
    bucket = Varchar(length=80)
    seq = BigInt()
    tbl = Varchar(length=32)
    row_id = UUID()


class SyncBucket(Table, tablename="sync_buckets"):
    """Per-bucket count and additive checksum, updated in O(1) per change (R-SUM)."""

    bucket = Varchar(length=80, primary_key=True)
    count = BigInt(default=0)
    checksum = BigInt(default=0)  # signed view of the sum mod 2^64
    compacted_through = BigInt(default=0)


# --- push -----------------------------------------------------------------------------


class PushSubscription(Table, tablename="push_subscriptions"):
    id = UUID(primary_key=True)
    user_id = UUID(index=True)
    device_id = Varchar(length=64, default="")
    endpoint = Text(unique=True)
    p256dh = Varchar(length=200)
    auth = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    last_success_at = Timestamptz(null=True, default=None)


class NotificationLog(Table, tablename="notification_log"):
    """One row per reminder (unique key per revisit, kind and day): sent at most once."""

    id = UUID(primary_key=True)
    key = Varchar(length=160, unique=True)
    user_id = UUID(index=True)
    kind = Varchar(length=32)  # due | overdue | digest
    planned_revisit_id = UUID(null=True, default=None)
    customer_id = UUID(null=True, default=None)
    payload = Text(default="{}")
    status = Varchar(length=16, default="pending")  # pending | sent | failed | dropped
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    due_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [
    ServerSetting,
    Region,
    User,
    RefreshToken,
    GiftItem,
    CadenceRule,
    Customer,
    Contact,
    Visit,
    Gift,
    Note,
    PlannedRevisit,
    StockMovement,
    Conflict,
    SyncCounter,
    SyncClient,
    SyncResult,
    SyncRemoval,
    SyncBucket,
    PushSubscription,
    NotificationLog,
]

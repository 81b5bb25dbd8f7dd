"""Customer data for API tests: customers with a record of each kind, per rep.

Rows are bulk-inserted and then finalized by the sync engine's bulk-load path (seq,
clocks, bucket checksums), as demo data and imports are: these fixtures set up what the
REST reads and the authorization matrix act on; REST writes are tested through HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from tests.server.world import Person, World

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PAST_DUE = date(2026, 11, 2)
LOSING_CLOCK = "019ab0000000-0000-device-a"
WINNING_CLOCK = "019ab0000001-0000-device-b"


@dataclass
class Records:
    """One customer and one record of each kind."""

    customer: UUID
    contact: UUID
    visit: UUID
    gift: UUID
    note: UUID
    plan: UUID
    conflict: UUID

    def __getitem__(self, kind: str) -> UUID:
        return getattr(self, kind)  # type: ignore[no-any-return]


@dataclass
class Book:
    """Per rep username: their customer and its records; plus catalog and rules."""

    of: dict[str, Records] = field(default_factory=dict)
    item: UUID = field(default_factory=uuid4)
    rule: UUID = field(default_factory=uuid4)

    @property
    def customer(self) -> dict[str, UUID]:
        return {k: v.customer for k, v in self.of.items()}


SYNCED = (
    "regions",
    "users",
    "gift_items",
    "cadence_rules",
    "customers",
    "contacts",
    "visits",
    "gifts",
    "notes",
    "planned_revisits",
    "conflicts",
)


async def finalize() -> None:
    """Give freshly inserted rows their sync versions, as the bulk loaders do."""
    from server.db import write_transaction
    from server.sync.service import finalize_bulk_load

    async with write_transaction():
        await finalize_bulk_load(SYNCED)


async def seed_reference() -> tuple[UUID, UUID]:
    from server.tables import CadenceRule, GiftItem

    item = uuid4()
    await GiftItem.insert(
        GiftItem(
            id=item,
            name_en="Tea set",
            name_zh="茶具",
            unit_value=Decimal("120.00"),
            currency="CNY",
            yearly_cap=Decimal("300.00"),
        )
    )
    rule = uuid4()
    await CadenceRule.insert(CadenceRule(id=rule, tier="A", interval_days=14, reminder_lead_days=1))
    await finalize()
    return item, rule


async def seed_customer(person: Person, item: UUID, name: str | None = None) -> Records:
    from server.tables import Conflict, Contact, Customer, Gift, Note, PlannedRevisit, Visit

    own: dict[str, Any] = {"owner_id": person.id, "region_id": person.region_id}
    cid = uuid4()
    await Customer.insert(
        Customer(
            id=cid,
            name=name or f"{person.username.title()} Trading 贸易",
            tier="A",
            stage="active",
            phone=f"+86 139 {person.username}",
            tags='["vip"]',
            **own,
        )
    )
    ids: dict[str, UUID] = {"customer": cid}
    rows: list[tuple[str, Any]] = [
        ("contact", Contact(customer_id=cid, name=f"{person.username} contact", **own)),
        (
            "visit",
            Visit(
                customer_id=cid,
                rep_id=person.id,
                started_at=NOW,
                satisfaction=4,
                outcome="ordered",
                order_value=Decimal("1000.00"),
                **own,
            ),
        ),
        (
            "gift",
            Gift(
                customer_id=cid,
                rep_id=person.id,
                item_id=item,
                quantity=1,
                unit_value=Decimal("120.00"),
                given_at=NOW,
                **own,
            ),
        ),
        (
            "note",
            Note(
                customer_id=cid,
                author_id=person.id,
                kind="complaint",
                body="late",
                status="open",
                **own,
            ),
        ),
        ("plan", PlannedRevisit(customer_id=cid, rep_id=person.id, due_date=PAST_DUE, **own)),
        (
            "conflict",
            Conflict(
                tbl="customers",
                row_id=cid,
                field="phone",
                losing_value='"+86 000 lost"',
                losing_clock=LOSING_CLOCK,
                losing_author=person.id,
                winning_value=f'"+86 139 {person.username}"',
                winning_clock=WINNING_CLOCK,
                customer_id=cid,
                **own,
            ),
        ),
    ]
    for kind, row in rows:
        row.id = uuid4()
        await type(row).insert(row)
        ids[kind] = row.id
    await finalize()
    return Records(**ids)


async def seed_rows(world: World) -> Book:
    item, rule = await seed_reference()
    book = Book(item=item, rule=rule)
    for rep in ("rob", "rita", "sue"):
        book.of[rep] = await seed_customer(world[rep], item)
    return book


async def snapshot() -> dict[str, Any]:
    """Everything a failed request must leave unchanged: every table's rows and the
    change counter."""
    from server.tables import TABLES

    skip = {"refresh_tokens", "rate_limits"}
    out: dict[str, Any] = {}
    for table in TABLES:
        name = table._meta.tablename
        if name in skip:
            continue
        rows = await table.select()
        out[name] = sorted(repr(sorted(r.items())) for r in rows)
    return out

"""Cadence recompute through the real sync engine (in-memory store): plans follow visits,
tier and rule changes in the same transaction, devices and the server never duplicate a plan.

The Piccolo store runs the same hooks (``server.planning.recompute.server_hooks``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from server.planning.cadence import Rule, plan_id
from server.planning.hooks import PlanningHooks, rule_from_row
from sync.actor import Actor
from sync.engine import SyncEngine
from sync.hlc import Clock
from sync.memory import MemoryStore
from sync.messages import Create, FieldWrite, PushRequest, Put

NORTH = "00000000-0000-4000-8000-00000000000a"
ROB = uuid.UUID("00000000-0000-4000-8000-0000000000f1")
ANN = uuid.UUID("00000000-0000-4000-8000-0000000000f2")
ADMIN = Actor(user_id=uuid.UUID("00000000-0000-4000-8000-0000000000f0"), role="admin", region_id=None)
REP = Actor(user_id=ROB, role="rep", region_id=uuid.UUID(NORTH))
MANAGER = Actor(user_id=ANN, role="manager", region_id=uuid.UUID(NORTH))
NOW = dt.datetime(2026, 3, 3, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


class Device:
    """A client as far as the engine is concerned: an id, numbered mutations, its clock."""

    def __init__(self, engine: SyncEngine, actor: Actor) -> None:
        self.engine, self.actor = engine, actor
        self.client_id = f"dev-{uuid.uuid4().hex[:12]}"
        self.n = 0
        self.clock = Clock(self.client_id)
        self.ms = int(NOW.timestamp() * 1000)

    def hlc(self) -> str:
        return self.clock.tick(self.ms)

    def create(self, table: str, row_id: Any, row: dict[str, Any]) -> Create:
        self.n += 1
        return Create(n=self.n, hlc=self.hlc(), table=table, id=str(row_id), row=row)

    def put(self, table: str, row_id: Any, fields: dict[str, Any], bases: dict[str, str | None]) -> Put:
        self.n += 1
        for base in bases.values():
            if base:
                self.clock.observe(base, self.ms)  # R-HLC-6: it has seen the clocks it edits
        writes = {k: FieldWrite(value=v, base=bases.get(k)) for k, v in fields.items()}
        return Put(n=self.n, hlc=self.hlc(), table=table, id=str(row_id), fields=writes)

    async def push(self, *mutations: Any) -> list[Any]:
        req = PushRequest(protocol=1, client_id=self.client_id, clock=self.hlc(), mutations=list(mutations))
        return list((await self.engine.push(self.actor, req)).results)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def engine(store: MemoryStore) -> SyncEngine:
    async def rules(ctx: Any) -> list[Rule]:
        return [rule_from_row(r) for r in store.state.tables["cadence_rules"].values() if not r["deleted"]]

    async def tier_customers(ctx: Any, tiers: set[str]) -> list[str]:
        return [r["id"] for r in store.state.tables["customers"].values() if r["tier"] in tiers]

    engine = SyncEngine(store, now=lambda: NOW, hooks=PlanningHooks(rules, tier_customers).as_mapping())

    async def seed(ctx: Any) -> None:
        await ctx.create_as_server("regions", {"id": NORTH, "name": "North", "time_zone": "Asia/Shanghai"})
        for i, (tier, days) in enumerate((("A", 14), ("B", 30))):
            await ctx.create_as_server("cadence_rules", {
                "id": str(uuid.UUID(int=100 + i)), "tier": tier, "region_id": None, "stage": None,
                "interval_days": days, "reminder_lead_days": 1,
            })

    await engine.run(ADMIN, seed)
    return engine


def plans(store: MemoryStore, customer_id: Any) -> list[dict[str, Any]]:
    rows = [r for r in store.state.tables["planned_revisits"].values() if r["customer_id"] == str(customer_id)]
    return sorted(rows, key=lambda r: r["seq"])


def open_plans(store: MemoryStore, customer_id: Any) -> list[dict[str, Any]]:
    return [r for r in plans(store, customer_id) if r["status"] == "planned" and not r["deleted"]]


async def new_customer(device: Device, tier: str = "A") -> uuid.UUID:
    cid = uuid.uuid4()
    [res] = await device.push(device.create("customers", cid, {"name": "王记茶庄", "tier": tier, "stage": "active"}))
    assert res.status == "applied", res
    return cid


def visit_row(customer_id: Any, started: dt.datetime) -> dict[str, Any]:
    return {"customer_id": str(customer_id), "started_at": started.isoformat(), "purpose": "routine"}


async def test_a_new_customer_gets_its_first_plan(store: MemoryStore, engine: SyncEngine) -> None:
    cid = await new_customer(Device(engine, REP))
    [plan] = plans(store, cid)
    assert plan["id"] == str(plan_id(cid, "initial"))
    assert (plan["due_date"], plan["source"], plan["status"]) == ("2026-03-03", "cadence", "planned")
    assert plan["owner_id"] == str(ROB) and plan["rep_id"] == str(ROB)


async def test_a_synced_visit_completes_the_plan_and_plans_the_next(store: MemoryStore, engine: SyncEngine) -> None:
    phone = Device(engine, REP)
    cid = await new_customer(phone)
    vid = uuid.uuid4()
    [res] = await phone.push(phone.create("visits", vid, visit_row(cid, NOW)))
    assert res.status == "applied"
    first, nxt = plans(store, cid)
    assert first["status"] == "done"
    assert nxt["id"] == str(plan_id(cid, f"after:{vid}"))
    assert (nxt["due_date"], nxt["status"], nxt["source"]) == ("2026-03-17", "planned", "cadence")


async def test_device_plan_written_before_the_visit_wins_and_is_not_duplicated(
    store: MemoryStore, engine: SyncEngine
) -> None:
    """The device computes the same id offline and picks its own date (docs/scheduling.md)."""
    phone = Device(engine, REP)
    cid = await new_customer(phone)
    old = plans(store, cid)[0]
    vid = uuid.uuid4()
    next_id = plan_id(cid, f"after:{vid}")
    results = await phone.push(
        phone.create("planned_revisits", next_id, {"customer_id": str(cid), "due_date": "2026-03-25",
                                                   "source": "manual", "status": "planned"}),
        phone.put("planned_revisits", old["id"], {"status": "done"}, {"status": old["clocks"]["status"]}),
        phone.create("visits", vid, visit_row(cid, NOW)),
    )
    assert [(r.status, r.message) for r in results] == [("applied", None)] * 3
    rows = plans(store, cid)
    assert len(rows) == 2
    assert [r["id"] for r in open_plans(store, cid)] == [str(next_id)]
    assert open_plans(store, cid)[0]["due_date"] == "2026-03-25"
    # replaying the whole push (lost response) changes nothing
    phone.n -= 3
    again = await phone.push(*[phone.create("visits", vid, visit_row(cid, NOW)) for _ in range(3)])
    assert all(r.replayed for r in again)
    assert len(plans(store, cid)) == 2


async def test_server_first_then_device_create_is_a_duplicate_not_a_second_plan(
    store: MemoryStore, engine: SyncEngine
) -> None:
    phone = Device(engine, REP)
    cid = await new_customer(phone)
    vid = uuid.uuid4()
    results = await phone.push(
        phone.create("visits", vid, visit_row(cid, NOW)),
        phone.create("planned_revisits", plan_id(cid, f"after:{vid}"),
                     {"customer_id": str(cid), "due_date": "2026-03-17", "source": "cadence"}),
    )
    assert [r.status for r in results] == ["applied", "duplicate"]
    assert len(open_plans(store, cid)) == 1


async def test_tier_change_moves_the_open_plan(store: MemoryStore, engine: SyncEngine) -> None:
    phone = Device(engine, REP)
    cid = await new_customer(phone)
    vid = uuid.uuid4()
    await phone.push(phone.create("visits", vid, visit_row(cid, NOW)))
    customer = store.state.tables["customers"][str(cid)]
    tablet = Device(engine, MANAGER)
    [res] = await tablet.push(tablet.put("customers", cid, {"tier": "B"}, {"tier": customer["clocks"]["tier"]}))
    assert res.status == "applied", res
    [plan] = open_plans(store, cid)
    assert plan["due_date"] == "2026-04-02"  # 30 days for tier B


async def test_rule_change_recomputes_the_customers_of_its_tier(store: MemoryStore, engine: SyncEngine) -> None:
    phone = Device(engine, REP)
    a, b = await new_customer(phone, "A"), await new_customer(phone, "B")
    for cid in (a, b):
        await phone.push(phone.create("visits", uuid.uuid4(), visit_row(cid, NOW)))
    before_b = open_plans(store, b)[0]
    rule = store.state.tables["cadence_rules"][str(uuid.UUID(int=100))]
    admin = Device(engine, ADMIN)
    [res] = await admin.push(admin.put("cadence_rules", rule["id"], {"interval_days": 7},
                                       {"interval_days": rule["clocks"]["interval_days"]}))
    assert res.status == "applied", res
    assert open_plans(store, a)[0]["due_date"] == "2026-03-10"
    assert open_plans(store, b)[0] == before_b  # other tiers untouched
    # a new, more specific rule for the region takes over
    admin2 = Device(engine, ADMIN)
    [res] = await admin2.push(admin2.create("cadence_rules", uuid.uuid4(), {
        "tier": "A", "region_id": NORTH, "interval_days": 5, "reminder_lead_days": 0}))
    assert res.status == "applied", res
    assert open_plans(store, a)[0]["due_date"] == "2026-03-08"


async def test_manual_date_wins_until_the_visit_is_done(store: MemoryStore, engine: SyncEngine) -> None:
    phone = Device(engine, REP)
    cid = await new_customer(phone)
    await phone.push(phone.create("visits", uuid.uuid4(), visit_row(cid, NOW)))
    [plan] = open_plans(store, cid)
    [res] = await phone.push(phone.put("planned_revisits", plan["id"], {"due_date": "2026-04-30", "source": "manual"},
                                       {"due_date": plan["clocks"]["due_date"], "source": plan["clocks"]["source"]}))
    assert res.status == "applied"
    customer = store.state.tables["customers"][str(cid)]
    await phone.push(phone.put("customers", cid, {"tier": "B"}, {"tier": customer["clocks"]["tier"]}))
    [kept] = open_plans(store, cid)
    assert (kept["id"], kept["due_date"], kept["source"]) == (plan["id"], "2026-04-30", "manual")
    later = NOW + dt.timedelta(days=20)
    vid = uuid.uuid4()
    await phone.push(phone.create("visits", vid, visit_row(cid, later)))
    assert store.state.tables["planned_revisits"][plan["id"]]["status"] == "done"
    [nxt] = open_plans(store, cid)
    assert (nxt["id"], nxt["due_date"], nxt["source"]) == (str(plan_id(cid, f"after:{vid}")), "2026-04-22", "cadence")


async def test_a_late_synced_older_visit_does_not_disturb_the_plan(store: MemoryStore, engine: SyncEngine) -> None:
    phone, tablet = Device(engine, REP), Device(engine, REP)
    cid = await new_customer(phone)
    await phone.push(phone.create("visits", uuid.uuid4(), visit_row(cid, NOW)))
    before = [dict(p) for p in plans(store, cid)]
    await tablet.push(tablet.create("visits", uuid.uuid4(), visit_row(cid, NOW - dt.timedelta(days=2))))
    assert plans(store, cid) == before


async def test_archiving_cancels_the_plan(store: MemoryStore, engine: SyncEngine) -> None:
    phone = Device(engine, REP)
    cid = await new_customer(phone)
    customer = store.state.tables["customers"][str(cid)]
    await phone.push(phone.put("customers", cid, {"archived": True}, {"archived": customer["clocks"]["archived"]}))
    assert open_plans(store, cid) == []
    assert plans(store, cid)[0]["status"] == "cancelled"

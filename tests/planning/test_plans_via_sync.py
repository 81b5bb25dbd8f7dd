"""Plans through the real write path: a device pushes over HTTP (``/api/sync/push``), the
server's engine runs the cadence hooks in the same transaction, the device pulls the plan,
and the scheduler reminds the rep of it. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.planning.cadence import plan_id
from server.scheduler.sweeps import sweep
from server.tables import PlannedRevisit
from sync.hlc import Clock
from tests.push.fake_service import FakePushService
from tests.push.support import add_rule
from tests.server.world import World


class Phone:
    """A device speaking docs/sync-protocol.md over HTTP."""

    def __init__(self, client: Any, person: Any) -> None:
        self.client, self.person = client, person
        self.client_id = f"phone-{uuid.uuid4().hex[:16]}"
        self.clock = Clock(self.client_id)
        self.n = 0

    def _ms(self) -> int:
        return int(datetime.now(UTC).timestamp() * 1000)

    def create(self, table: str, row_id: Any, row: dict[str, Any]) -> dict[str, Any]:
        self.n += 1
        return {"kind": "create", "n": self.n, "hlc": self.clock.tick(self._ms()), "table": table,
                "id": str(row_id), "row": row}

    def put(self, table: str, row_id: Any, fields: dict[str, tuple[Any, str | None]]) -> dict[str, Any]:
        """A put of ``{field: (value, base clock)}``."""
        self.n += 1
        return {"kind": "put", "n": self.n, "hlc": self.clock.tick(self._ms()), "table": table, "id": str(row_id),
                "fields": {k: {"value": v, "base": b} for k, (v, b) in fields.items()}}

    async def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        body = {"protocol": 1, "client_id": self.client_id, "clock": self.clock.tick(self._ms()),
                "mutations": list(mutations)}
        response = await self.client.post("/api/sync/push", json=body, headers=self.person.headers)
        assert response.status_code == 200, response.text
        self.clock.observe(response.json()["clock"], self._ms())
        return list(response.json()["results"])

    async def pull_all(self) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = []
        cursor = None
        while True:
            body = {"protocol": 1, "client_id": self.client_id, "clock": self.clock.tick(self._ms()),
                    "cursor": cursor}
            response = await self.client.post("/api/sync/pull", json=body, headers=self.person.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            changes += page["changes"]
            cursor = page["cursor"]
            if not page["more"]:
                return changes


async def customer_visited_on_3_march(phone: Phone) -> tuple[uuid.UUID, uuid.UUID]:
    """A new tier A customer and its visit of 3 March 2026, pushed by the phone."""
    customer, visit = uuid.uuid4(), uuid.uuid4()
    await phone.push(
        phone.create("customers", customer, {"name": "Acme", "tier": "A"}),
        phone.create("visits", visit, {"customer_id": str(customer), "started_at": "2026-03-03T04:00:00+00:00"}),
    )
    return customer, visit


async def open_plans(customer_id: uuid.UUID) -> list[dict[str, Any]]:
    return await PlannedRevisit.select().where(
        (PlannedRevisit.customer_id == customer_id) & (PlannedRevisit.status == "planned")
    )


async def test_visit_pushed_by_a_phone_plans_the_next_visit_which_the_phone_pulls(
    client: Any, app: Any, world: World
) -> None:
    await add_rule("A", 14, lead=1)
    rob = world["rob"]
    phone = Phone(client, rob)
    customer = uuid.uuid4()
    [created] = await phone.push(phone.create("customers", customer, {"name": "王记茶庄", "tier": "A",
                                                                       "stage": "active"}))
    assert created["status"] == "applied", created
    [first] = await open_plans(customer)
    assert first["id"] == plan_id(customer, "initial")

    visit = uuid.uuid4()
    started = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    [res] = await phone.push(phone.create("visits", visit, {"customer_id": str(customer),
                                                            "started_at": started.isoformat()}))
    assert res["status"] == "applied", res
    [nxt] = await open_plans(customer)
    assert nxt["id"] == plan_id(customer, f"after:{visit}")
    assert (nxt["due_date"], nxt["source"], nxt["rep_id"]) == (date(2026, 3, 17), "cadence", rob.id)
    assert nxt["seq"] > 0  # written by the engine: in the change feed

    pulled = {c["id"]: c for c in await phone.pull_all() if c["table"] == "planned_revisits"}
    assert pulled[str(nxt["id"])]["row"]["due_date"] == "2026-03-17"
    assert pulled[str(first["id"])]["row"]["status"] == "done"


async def test_the_device_and_the_server_computing_the_plan_never_duplicate_it(
    client: Any, app: Any, world: World
) -> None:
    await add_rule("A", 14, lead=1)
    phone = Phone(client, world["rob"])
    customer = uuid.uuid4()
    visit = uuid.uuid4()
    next_plan = plan_id(customer, f"after:{visit}")
    results = await phone.push(
        phone.create("customers", customer, {"name": "Acme", "tier": "A"}),
        phone.create("planned_revisits", next_plan, {"customer_id": str(customer), "due_date": "2026-04-01",
                                                     "source": "manual"}),
        phone.create("visits", visit, {"customer_id": str(customer),
                                       "started_at": "2026-03-03T04:00:00+00:00"}),
        phone.create("planned_revisits", next_plan, {"customer_id": str(customer), "due_date": "2026-04-01",
                                                     "source": "manual"}),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "duplicate"]
    [plan] = await open_plans(customer)
    assert (plan["id"], plan["due_date"], plan["source"]) == (next_plan, date(2026, 4, 1), "manual")
    assert await PlannedRevisit.count().where(PlannedRevisit.customer_id == customer) == 2


async def test_a_plan_written_through_sync_is_reminded(
    client: Any, app: Any, world: World, fake_push: FakePushService
) -> None:
    await add_rule("A", 14, lead=1)
    rob = world["rob"]
    sub = fake_push.subscribe(app.state.vapid.public_key)
    assert (await client.post("/api/push/subscriptions", json=sub.to_json("p"), headers=rob.headers)).status_code == 201
    phone = Phone(client, rob)
    customer, visit = uuid.uuid4(), uuid.uuid4()
    await phone.push(
        phone.create("customers", customer, {"name": "Li's Pharmacy", "tier": "A"}),
        phone.create("visits", visit, {"customer_id": str(customer), "started_at": "2026-03-03T04:00:00+00:00"}),
    )
    reminder = datetime(2026, 3, 16, 0, 0, tzinfo=UTC)  # 08:00 local the day before 17 March
    await sweep(app.state.push_sender, reminder - timedelta(seconds=1))
    assert fake_push.accepted(sub) == []
    await sweep(app.state.push_sender, reminder)
    [message] = fake_push.accepted(sub)
    assert message.payload is not None
    assert (message.payload["customer_name"], message.payload["due_date"]) == ("Li's Pharmacy", "2026-03-17")
    assert message.payload["planned_revisit_id"] == str(plan_id(customer, f"after:{visit}"))


async def test_forgotten_customers_are_listed_by_scope(client: Any, app: Any, world: World) -> None:
    rob = world["rob"]
    phone = Phone(client, rob)
    planned, forgotten = uuid.uuid4(), uuid.uuid4()
    await add_rule("A", 14, lead=1)  # tier A is planned; tier C has no rule
    await phone.push(
        phone.create("customers", planned, {"name": "Planned", "tier": "A"}),
        phone.create("customers", forgotten, {"name": "Nobody visits me", "tier": "C"}),
    )
    mine = (await client.get("/api/planning/forgotten", headers=rob.headers)).json()
    assert [c["id"] for c in mine["items"]] == [str(forgotten)] and mine["total"] == 1
    ann = (await client.get("/api/planning/forgotten", headers=world["ann"].headers)).json()
    assert [c["id"] for c in ann["items"]] == [str(forgotten)]
    for other in ("rita", "sam", "sue"):
        assert (await client.get("/api/planning/forgotten", headers=world[other].headers)).json()["total"] == 0
    admin = (await client.get("/api/planning/forgotten?limit=1", headers=world["admin"].headers)).json()
    assert admin["total"] == 1 and len(admin["items"]) == 1
    assert (await client.get("/api/planning/forgotten?limit=0", headers=rob.headers)).status_code == 400
    assert (await client.get("/api/planning/forgotten")).status_code == 401


async def test_rest_rule_and_tier_changes_move_the_plan_a_phone_sees(
    client: Any, app: Any, world: World
) -> None:
    """An admin's new rule and a manager's tier edit (REST, same write path) re-plan."""
    admin, ann = world["admin"].headers, world["ann"].headers
    created = await client.post("/api/admin/cadence-rules", json={"tier": "A", "interval_days": 14}, headers=admin)
    assert created.status_code in (200, 201), created.text
    phone = Phone(client, world["rob"])
    customer, _ = await customer_visited_on_3_march(phone)
    [plan] = await open_plans(customer)
    assert plan["due_date"] == date(2026, 3, 17)

    narrower = await client.post("/api/admin/cadence-rules", json={
        "tier": "A", "region_id": str(world.north), "interval_days": 7, "reminder_lead_days": 0}, headers=admin)
    assert narrower.status_code in (200, 201), narrower.text
    [plan] = await open_plans(customer)
    assert plan["due_date"] == date(2026, 3, 10)

    await client.post("/api/admin/cadence-rules", json={"tier": "B", "interval_days": 30}, headers=admin)
    edited = await client.patch(f"/api/customers/{customer}", json={"tier": "B"}, headers=ann)
    assert edited.status_code == 200, edited.text
    [plan] = await open_plans(customer)
    assert plan["due_date"] == date(2026, 4, 2)

    rule_id = narrower.json()["id"]
    assert (await client.delete(f"/api/admin/cadence-rules/{rule_id}", headers=admin)).status_code in (200, 204)
    [again] = await open_plans(customer)
    assert again["due_date"] == date(2026, 4, 2)  # tier B's rule is untouched by deleting an A rule
    pulled = {c["id"]: c for c in await phone.pull_all() if c["table"] == "planned_revisits"}
    assert pulled[str(plan["id"])]["row"]["due_date"] == "2026-04-02"


async def test_a_date_the_rep_moves_on_a_cadence_plan_stays_until_the_next_visit(
    client: Any, app: Any, world: World
) -> None:
    """R-PUT-6: putting a plan's due date makes it a manual plan; a rule change does not move
    it back, and the next visit completes it."""
    admin = world["admin"].headers
    await client.post("/api/admin/cadence-rules", json={"tier": "A", "interval_days": 14}, headers=admin)
    phone = Phone(client, world["rob"])
    customer, _ = await customer_visited_on_3_march(phone)
    [plan] = await open_plans(customer)
    assert (plan["due_date"], plan["source"]) == (date(2026, 3, 17), "cadence")
    pulled = {c["id"]: c for c in await phone.pull_all() if c["table"] == "planned_revisits"}
    base = pulled[str(plan["id"])]["row"]["clocks"]["due_date"]
    put = phone.put("planned_revisits", plan["id"], {"due_date": ("2026-03-20", base)})
    [moved] = await phone.push(put)
    assert moved["status"] == "applied", moved
    [plan] = await open_plans(customer)
    assert (plan["due_date"], plan["source"]) == (date(2026, 3, 20), "manual")
    clocks = plan["clocks"] if isinstance(plan["clocks"], dict) else json.loads(plan["clocks"])
    assert clocks["source"] == put["hlc"]

    tighter = await client.post("/api/admin/cadence-rules", json={
        "tier": "A", "region_id": str(world.north), "interval_days": 7}, headers=admin)
    assert tighter.status_code in (200, 201), tighter.text
    [still] = await open_plans(customer)
    assert (still["id"], still["due_date"]) == (plan["id"], date(2026, 3, 20))

    later = uuid.uuid4()
    await phone.push(phone.create("visits", later, {"customer_id": str(customer),
                                                    "started_at": "2026-03-19T04:00:00+00:00"}))
    [after] = await open_plans(customer)
    assert (after["id"], after["due_date"], after["source"]) == (plan_id(customer, f"after:{later}"),
                                                                 date(2026, 3, 26), "cadence")
    done = await PlannedRevisit.select(PlannedRevisit.status).where(PlannedRevisit.id == plan["id"]).first()
    assert done is not None and done["status"] == "done"


async def test_a_next_date_the_rep_chooses_at_the_visit_is_the_only_open_plan(
    client: Any, app: Any, world: World
) -> None:
    """The PWA records a visit and the date the rep chose as a new manual plan in one push;
    the cadence plan the visit made on the server gives way to it, on the phone too."""
    await client.post("/api/admin/cadence-rules", json={"tier": "A", "interval_days": 14},
                      headers=world["admin"].headers)
    phone = Phone(client, world["rob"])
    customer, visit = uuid.uuid4(), uuid.uuid4()
    manual = uuid.uuid4()
    results = await phone.push(
        phone.create("customers", customer, {"name": "Acme", "tier": "A"}),
        phone.create("visits", visit, {"customer_id": str(customer), "started_at": "2026-03-03T04:00:00+00:00"}),
        phone.create("planned_revisits", manual, {"customer_id": str(customer), "due_date": "2026-03-25",
                                                  "source": "manual", "status": "planned"}),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results
    [plan] = await open_plans(customer)
    assert (plan["id"], plan["due_date"], plan["source"]) == (manual, date(2026, 3, 25), "manual")

    rows = {c["id"]: c["row"] for c in await phone.pull_all() if c["table"] == "planned_revisits"}
    assert {i for i, r in rows.items() if r["status"] == "planned" and not r["deleted"]} == {str(manual)}
    assert rows[str(plan_id(customer, f"after:{visit}"))]["status"] == "cancelled"


async def test_a_day_of_visits_pushed_at_once_plans_as_if_pushed_one_by_one(
    client: Any, app: Any, world: World
) -> None:
    """A rep offline all day pushes every visit at once: the server reads the customers'
    histories for the whole push up front; the plans must be those of one push per visit."""
    await add_rule("A", 14, lead=1)
    visits = [("a", "2026-03-03T04:00:00+00:00"), ("b", "2026-03-05T09:00:00+00:00"),
              ("a", "2026-03-10T02:00:00+00:00"), ("b", "2026-03-01T08:00:00+00:00"),  # synced late: older
              ("a", "2026-03-02T08:00:00+00:00"), ("b", "2026-03-05T09:00:00+00:00")]  # same instant as the 2nd

    async def outcome(one_push: bool) -> dict[str, list[tuple[str, str, str]]]:
        phone = Phone(client, world["rob"])
        customers = {name: uuid.uuid4() for name in ("a", "b")}
        await phone.push(*(phone.create("customers", c, {"name": f"茶庄 {n}", "tier": "A"}) for n, c in customers.items()))
        ids = [uuid.UUID(int=(k + 1) << 64 | uuid.uuid4().int >> 64) for k in range(len(visits))]  # ids sort as listed
        creates = [phone.create("visits", ids[k], {"customer_id": str(customers[who]), "started_at": at})
                   for k, (who, at) in enumerate(visits)]
        results = await phone.push(*creates) if one_push else [r for m in creates for r in await phone.push(m)]
        assert [r["status"] for r in results] == ["applied"] * len(visits)
        named = {plan_id(c, "initial"): "initial" for c in customers.values()}
        named |= {plan_id(customers[who], f"after:{ids[k]}"): f"after visit {k}" for k, (who, _) in enumerate(visits)}
        plans = await PlannedRevisit.select().where(PlannedRevisit.customer_id.is_in(list(customers.values())))
        by_customer = {n: sorted((named[p["id"]], str(p["due_date"]), p["status"])
                                 for p in plans if p["customer_id"] == c) for n, c in customers.items()}
        return by_customer

    at_once, one_by_one = await outcome(True), await outcome(False)
    assert at_once == one_by_one
    # the initial plans (due the day each customer was created) are done; older visits plan nothing
    assert at_once["a"][:2] == [("after visit 0", "2026-03-17", "done"), ("after visit 2", "2026-03-24", "planned")]
    # the same instant twice: the larger id is the latest visit
    assert at_once["b"][:2] == [("after visit 1", "2026-03-19", "done"), ("after visit 5", "2026-03-19", "planned")]
    assert [p[0::2] for p in (at_once["a"][2], at_once["b"][2])] == [("initial", "done")] * 2

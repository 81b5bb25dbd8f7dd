"""A many-device simulation of the sync protocol with a pluggable transport.

Devices make random offline edits; the network loses, duplicates and delays requests and
responses; partitions come and go; managers reassign customers; the server restarts.
At the end every device must equal the server's view of its buckets (same checksums),
every acknowledged write must be visible or kept as a conflict record, nothing may be
duplicated and nothing out of scope may be on any device.

``World`` is backend-agnostic: it needs a transport, a way to seed data as an admin and
a way to "restart" the server. ``tests/sync/test_simulation.py`` runs it in memory;
``tests/server/test_sync_http_simulation.py`` runs it over real HTTP.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sync.actor import Actor
from sync.buckets import visible
from sync.client import Device, SyncFailed, Transport, TransportLost
from sync.messages import Command, Create, Put

START = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)


@dataclass
class Faults:
    lose_request: float = 0.1
    lose_response: float = 0.1
    duplicate: float = 0.1
    delay: float = 0.05


class FaultyTransport:
    """Loses, duplicates and delays (reorders) calls of an inner transport."""

    def __init__(self, inner: Transport, rng: random.Random, faults: Faults) -> None:
        self.inner = inner
        self.rng = rng
        self.faults = faults
        self.enabled = True
        self.delayed: list[tuple[Device, str, bytes]] = []
        self.stats: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        if not self.enabled:
            return await self.inner.call(device, endpoint, body)
        roll = self.rng.random()
        f = self.faults
        if roll < f.lose_request:
            self._count("lost_request")
            raise TransportLost("request lost")
        roll -= f.lose_request
        if roll < f.delay:
            self._count("delayed")
            self.delayed.append((device, endpoint, body))
            raise TransportLost("request delayed")
        roll -= f.delay
        status, raw = await self.inner.call(device, endpoint, body)
        if roll < f.duplicate:
            self._count("duplicated")
            status, raw = await self.inner.call(device, endpoint, body)
        elif roll < f.duplicate + f.lose_response:
            self._count("lost_response")
            raise TransportLost("response lost")
        return status, raw

    async def deliver_delayed(self) -> None:
        """Late arrival of old requests, after newer ones (reordering)."""
        pending, self.delayed = self.delayed, []
        self.rng.shuffle(pending)
        for device, endpoint, body in pending:
            self._count("late_delivered")
            await self.inner.call(device, endpoint, body)


@dataclass
class People:
    regions: list[str]
    reps: dict[str, Actor]  # name -> actor
    managers: dict[str, Actor]
    admin: Actor
    items: list[str]


@dataclass
class World:
    """Everything the driver needs from a backend."""

    transport: Transport
    seed_data: Callable[[People, list[tuple[str, dict[str, Any]]]], Awaitable[None]]
    restart: Callable[[], Awaitable[None]]
    clock_ms: list[int] = field(default_factory=lambda: [int(START.timestamp() * 1000)])
    make_user: Callable[[Device, Actor], Any] = field(default=lambda d, a: a)
    real_time: bool = False  # the server reads the real clock: follow it instead of simulating

    def advance(self, rng: random.Random) -> None:
        if self.real_time:
            self.clock_ms[0] = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        else:
            self.clock_ms[0] += rng.randint(10, 90_000)


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_people(rng: random.Random) -> People:
    r1, r2 = _uid(rng), _uid(rng)

    def actor(role: str, region: str | None) -> Actor:
        return Actor(uuid.UUID(_uid(rng)), role, uuid.UUID(region) if region else None)  # type: ignore[arg-type]

    return People(
        regions=[r1, r2],
        reps={"a1": actor("rep", r1), "a2": actor("rep", r1), "b1": actor("rep", r2)},
        managers={"m1": actor("manager", r1), "m2": actor("manager", r2)},
        admin=actor("admin", None),
        items=[_uid(rng), _uid(rng)],
    )


def seed_rows(people: People, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Reference data and a few customers per rep, written by the server at the start."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for i, region in enumerate(people.regions):
        rows.append(("regions", {"id": region, "name": f"Region {i}", "time_zone": "Asia/Shanghai"}))
    for name, a in [*people.reps.items(), *people.managers.items()]:
        rows.append(
            (
                "users",
                {"id": str(a.user_id), "username": f"{name}-{a.user_id.hex[:6]}", "display_name": name,
                 "role": a.role, "region_id": str(a.region_id), "active": True},
            )
        )
    for i, item in enumerate(people.items):
        rows.append(("gift_items", {"id": item, "name_en": f"Gift {i}", "name_zh": f"礼物{i}",
                                    "unit_value": "40.00", "yearly_cap": "100.00"}))
    rows.append(("cadence_rules", {"id": _uid(rng), "tier": "A", "interval_days": 14}))
    for a in people.reps.values():
        for k in range(2):
            cid = _uid(rng)
            rows.append(("customers", {"id": cid, "name": f"Seed {k}", "tier": "B", "owner_id": str(a.user_id),
                                       "region_id": str(a.region_id)}))
            rows.append(("planned_revisits", {"id": _uid(rng), "customer_id": cid, "rep_id": str(a.user_id),
                                              "due_date": "2026-11-25", "owner_id": str(a.user_id),
                                              "region_id": str(a.region_id), "source": "cadence"}))
    return rows


@dataclass
class Sim:
    world: World
    rng: random.Random
    faults: Faults
    people: People = field(init=False)
    devices: dict[str, Device] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    offline: set[str] = field(default_factory=set)
    events: dict[str, int] = field(default_factory=dict)
    net: FaultyTransport = field(init=False)

    def __post_init__(self) -> None:
        self.people = make_people(self.rng)
        self.net = FaultyTransport(self.world.transport, self.rng, self.faults)

    def _count(self, what: str) -> None:
        self.events[what] = self.events.get(what, 0) + 1

    def add_device(self, name: str, actor: Actor, skew_ms: int) -> Device:
        def wall() -> int:
            return self.world.clock_ms[0] + skew_ms

        device = Device(client_id=f"{name}-{_uid(self.rng)[:8]}", user=None, wall=wall)
        device.user = self.world.make_user(device, actor)
        self.devices[name] = device
        self.actors[name] = actor
        return device

    async def setup(self) -> None:
        self.world.advance(self.rng)
        p = self.people
        await self.world.seed_data(p, seed_rows(p, self.rng))
        hour = 3_600_000
        self.add_device("a1", p.reps["a1"], 0)
        self.add_device("a1-tablet", p.reps["a1"], 20_000)  # a second device of the same rep
        self.add_device("a2", p.reps["a2"], 2 * hour)  # clock hours ahead: clock_skew path
        self.add_device("b1", p.reps["b1"], -3 * hour)  # hours behind
        self.add_device("m1", p.managers["m1"], -5_000)
        self.add_device("m2", p.managers["m2"], 0)
        self.add_device("admin", p.admin, 1_000)

    # --- random local edits ------------------------------------------------------------------

    def _customers(self, d: Device) -> list[str]:
        return sorted(k for k, r in d.rows("customers").items() if not r.get("archived"))

    def _edit(self, name: str) -> None:
        d = self.devices[name]
        actor = self.actors[name]
        rng = self.rng
        customers = self._customers(d)
        roll = rng.random()
        if actor.role == "rep" and (roll < 0.12 or not customers):
            d.create("customers", {"name": f"New {rng.randrange(10**6)}", "tier": rng.choice("ABC")}, _uid(rng))
            self._count("create_customer")
            return
        if not customers:
            return
        cid = rng.choice(customers)
        if roll < 0.35:
            d.create("visits", {"customer_id": cid, "started_at": self._iso(d), "satisfaction": rng.randint(1, 5),
                                "order_value": f"{rng.randint(0, 5000)}.00"}, _uid(rng))
            self._count("create_visit")
        elif roll < 0.42:
            d.create("gifts", {"customer_id": cid, "item_id": rng.choice(self.people.items),
                               "quantity": rng.randint(1, 2), "given_at": self._iso(d)}, _uid(rng))
            self._count("create_gift")
        elif roll < 0.5:
            d.create("notes", {"customer_id": cid, "kind": rng.choice(["note", "complaint"]), "body": "说明 note"}, _uid(rng))
            self._count("create_note")
        elif roll < 0.55:
            d.create("contacts", {"customer_id": cid, "name": "Contact"}, _uid(rng))
            self._count("create_contact")
        elif roll < 0.8:
            fieldname = rng.choice(["name", "phone", "tier", "stage", "address", "archived"])
            value: Any = {
                "name": f"Name {rng.randrange(1000)}",
                "phone": f"+86 {rng.randrange(10**8)}",
                "tier": rng.choice("ABC"),
                "stage": rng.choice(["prospect", "active", "key", "at_risk"]),
                "address": f"{rng.randrange(100)} Road",
                "archived": rng.random() < 0.2,
            }[fieldname]
            d.put("customers", cid, {fieldname: value})
            self._count("put_customer")
        elif roll < 0.9:
            deletable = [
                (t, k) for t in ("visits", "notes", "contacts")
                for k, r in d.rows(t).items() if r.get("customer_id") == cid
            ]
            if deletable:
                t, k = rng.choice(deletable)
                d.put(t, k, {"deleted": True})
                self._count("delete")
        elif roll < 0.96 and actor.role in ("manager", "admin"):
            targets = [a for a in self.people.reps.values() if actor.role == "admin" or a.region_id == actor.region_id]
            to = rng.choice(targets)
            d.command("reassign_customer", {"customer_id": cid, "to_rep_id": str(to.user_id)})
            self._count("reassign")
        else:
            plans = [k for k, r in d.rows("planned_revisits").items() if r.get("customer_id") == cid]
            if plans:
                d.put("planned_revisits", rng.choice(plans), {"due_date": "2026-12-0" + str(rng.randint(1, 9))})
                self._count("put_plan")

    def _iso(self, d: Device) -> str:
        return dt.datetime.fromtimestamp(d.now_ms() / 1000, dt.UTC).isoformat()

    # --- the run ------------------------------------------------------------------------------

    async def _sync(self, name: str) -> None:
        d = self.devices[name]
        try:
            await d.sync(self.net)
            self._count("sync_ok")
        except TransportLost:
            self._count("sync_lost")
        except SyncFailed as exc:
            self._count(f"sync_failed_{exc.problem.get('code')}")
            raise

    async def run(self, steps: int) -> None:
        await self.setup()
        names = list(self.devices)
        for name in names:
            await self._sync(name)
        for _ in range(steps):
            self.world.advance(self.rng)
            roll = self.rng.random()
            name = self.rng.choice(names)
            if roll < 0.55:
                for _ in range(self.rng.randint(1, 4)):
                    self._edit(name)
            elif roll < 0.85:
                if name not in self.offline:
                    await self._sync(name)
            elif roll < 0.92:
                if name in self.offline:
                    self.offline.discard(name)
                else:
                    self.offline.add(name)
                self._count("partition")
            elif roll < 0.96:
                await self.net.deliver_delayed()
            else:
                await self.world.restart()
                self._count("restart")
        await self.quiesce()

    async def quiesce(self) -> None:
        """Heal everything and sync until every outbox is empty and every replica is current."""
        self.offline.clear()
        await self.net.deliver_delayed()
        self.net.enabled = False
        for _ in range(3):
            for name in self.devices:
                await self.devices[name].sync(self.net)
        for name in self.devices:  # a last pull, after everyone's writes
            await self.devices[name].pull(self.net)

    # --- the invariants ---------------------------------------------------------------------

    async def reference(self, actor: Actor) -> Device:
        """A fresh device of the same user: the server's view of its buckets."""
        ref = Device(client_id=f"ref-{uuid.uuid4().hex[:12]}", user=None, wall=lambda: self.world.clock_ms[0])
        ref.user = self.world.make_user(ref, actor)
        await ref.pull(self.net)
        return ref

    async def check(self) -> None:
        truth_dev = await self.reference(self.people.admin)
        truth = {k: e.row for k, e in truth_dev.replica.items() if e.row is not None}
        for name, d in self.devices.items():
            assert not d.outbox, f"{name} still has unsent mutations"
            assert d.last_checksums_ok, f"{name}: checksum mismatch at the end"
            ref = await self.reference(self.actors[name])
            mine, theirs = d.live_rows(), ref.live_rows()
            assert mine.keys() == theirs.keys(), f"{name}: replica rows differ from the server's view: " \
                f"extra={sorted(mine.keys() - theirs.keys())[:3]} missing={sorted(theirs.keys() - mine.keys())[:3]}"
            for k in mine:
                assert mine[k] == theirs[k], f"{name}: row {k} differs"
            assert d.checksums() == ref.checksums()
            for (table, _), (_, _, row) in mine.items():  # nothing out of scope
                assert visible(self.actors[name], table, row), f"{name} holds {table} out of scope"
        self._check_acknowledged(truth)

    def _check_acknowledged(self, truth: dict[tuple[str, str], dict[str, Any]]) -> None:
        conflicts = {
            (r["tbl"], r["row_id"], r["field"], r["losing_clock"])
            for (t, _), r in truth.items() if t == "conflicts"
        }
        bases: set[tuple[str, str, str, str]] = set()
        created: dict[tuple[str, str], int] = {}
        for d in self.devices.values():
            for m, r in d.acked.values():
                if isinstance(m, Put) and r.status in ("applied", "conflict"):
                    for f, w in m.fields.items():
                        if w.base:
                            bases.add((m.table, m.id, f, w.base))
                if isinstance(m, Create) and r.status == "applied":
                    created[(m.table, m.id)] = created.get((m.table, m.id), 0) + 1
        for key, count in created.items():  # nothing duplicated, every acknowledged fact kept
            assert count == 1, f"{key} applied {count} times"
            assert key in truth, f"acknowledged create {key} is missing"
        writes: list[tuple[str, str, str, str, Any]] = [
            (m.table, m.id, f, m.hlc, w.value)
            for d in self.devices.values()
            for m, r in d.acked.values()
            if isinstance(m, Put) and r.status in ("applied", "conflict")
            for f, w in m.fields.items()
        ]
        ok: set[tuple[str, str, str, str]] = set()
        for table, row_id, f, hlc, _value in writes:
            row = truth[(table, row_id)]
            key = (table, row_id, f, hlc)
            if row["clocks"].get(f) == hlc or key in conflicts or key in bases:
                ok.add(key)
        # A write whose value a later write repeated (no conflict: equal values) and that
        # later write survived: the value was not lost. Propagate to a fixpoint.
        changed = True
        while changed:
            changed = False
            for table, row_id, f, hlc, value in writes:
                key = (table, row_id, f, hlc)
                if key in ok:
                    continue
                if any(
                    (t2, r2, f2) == (table, row_id, f) and h2 > hlc and v2 == value and (t2, r2, f2, h2) in ok
                    for t2, r2, f2, h2, v2 in writes
                ) or truth[(table, row_id)].get(f) == value:
                    ok.add(key)
                    changed = True
        lost = [w for w in writes if (w[0], w[1], w[2], w[3]) not in ok]
        assert not lost, f"acknowledged writes lost: {lost[:3]}"


def command_count(devices: dict[str, Device]) -> int:
    return sum(1 for d in devices.values() for m, _ in d.acked.values() if isinstance(m, Command))

"""Engine behaviour on the in-memory store, rule by rule (docs/sync-protocol.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from sync.actor import Actor
from sync.client import Device
from sync.engine import SyncEngine, parse_request
from sync.hlc import Clock
from sync.memory import MemoryStore
from sync.messages import (
    Command,
    Create,
    FieldWrite,
    PullRequest,
    PushRequest,
    Put,
    SyncError,
    push_request_decoder,
)
from sync.transport import EngineTransport

NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def uid() -> str:
    return str(uuid.uuid4())


@dataclass
class W:
    store: MemoryStore
    engine: SyncEngine
    region: str
    region2: str
    rep: Actor
    rep2: Actor
    other_rep: Actor
    manager: Actor
    other_manager: Actor
    admin: Actor
    item: str
    customer: str  # owned by rep
    customer2: str  # owned by rep2
    clocks: dict[str, Clock] = field(default_factory=dict)
    ns: dict[str, int] = field(default_factory=dict)

    def clock(self, client: str) -> Clock:
        return self.clocks.setdefault(client, Clock(client))

    def tick(self, client: str, ahead_ms: int = 0) -> str:
        return self.clock(client).tick(NOW_MS + ahead_ms)

    def n(self, client: str) -> int:
        self.ns[client] = self.ns.get(client, 0) + 1
        return self.ns[client]

    async def push(self, actor: Actor, client: str, *muts: Any) -> Any:
        return await self.engine.push(actor, PushRequest(1, client, self.tick(client), list(muts)))

    def create(self, client: str, table: str, row: dict[str, Any], row_id: str | None = None) -> Create:
        return Create(self.n(client), self.tick(client), table, row_id or uid(), row)

    def put(self, client: str, table: str, row_id: str, **fields: tuple[Any, str | None]) -> Put:
        for _, base in fields.values():  # R-HLC-6: the device has received what it saw
            if base:
                self.clock(client).observe(base, NOW_MS)
        return Put(self.n(client), self.tick(client), table, row_id, {k: FieldWrite(v, b) for k, (v, b) in fields.items()})

    async def row(self, table: str, row_id: str) -> dict[str, Any]:
        async with self.store.read() as tx:
            r = await tx.get(table, row_id)
        assert r is not None
        return r


@pytest.fixture
async def w() -> W:
    store = MemoryStore()
    engine = SyncEngine(store, now=lambda: NOW)
    r1, r2 = uid(), uid()

    def actor(role: str, region: str | None) -> Actor:
        return Actor(uuid.uuid4(), role, uuid.UUID(region) if region else None)  # type: ignore[arg-type]

    rep, rep2, other = actor("rep", r1), actor("rep", r1), actor("rep", r2)
    mgr, mgr2, admin = actor("manager", r1), actor("manager", r2), actor("admin", None)
    item, c1, c2 = uid(), uid(), uid()

    async def seed(ctx: Any) -> None:
        await ctx.create_as_server("regions", {"id": r1, "name": "East", "time_zone": "Asia/Shanghai"})
        await ctx.create_as_server("regions", {"id": r2, "name": "West"})
        for a in (rep, rep2, other, mgr, mgr2):
            await ctx.create_as_server("users", {"id": str(a.user_id), "username": str(a.user_id), "role": a.role,
                                                 "region_id": str(a.region_id)})
        await ctx.create_as_server("gift_items", {"id": item, "name_en": "Tea", "name_zh": "茶",
                                                  "unit_value": "40.00", "yearly_cap": "100.00"})
        for cid, owner in ((c1, rep), (c2, rep2)):
            await ctx.create_as_server("customers", {"id": cid, "name": "ACME", "owner_id": str(owner.user_id),
                                                     "region_id": r1})

    await engine.run(admin, seed)
    return W(store, engine, r1, r2, rep, rep2, other, mgr, mgr2, admin, item, c1, c2)


# --- versioning, envelope, skew ------------------------------------------------------------


def test_protocol_checked_before_shape() -> None:
    with pytest.raises(SyncError) as e:
        parse_request(b'{"protocol": 2, "whatever": true}', push_request_decoder)
    assert (e.value.status, e.value.code, e.value.extra["supported"]) == (400, "protocol_unsupported", [1])
    with pytest.raises(SyncError) as e:
        parse_request(b'{"client_id": "x"}', push_request_decoder)
    assert e.value.code == "protocol_unsupported"
    with pytest.raises(SyncError) as e:
        parse_request(b'{"protocol": 1, "client_id": "abcdefgh", "clock": "x", "mutations": [], "extra": 1}',
                      push_request_decoder)
    assert (e.value.status, e.value.code) == (400, "validation")
    with pytest.raises(SyncError) as e:
        parse_request(b"{not json", push_request_decoder)
    assert e.value.code == "validation"


async def test_clock_skew_refused_and_consumes_nothing(w: W) -> None:
    m = Create(1, w.tick("devA_0001", ahead_ms=61_000), "visits", uid(), {"customer_id": w.customer,
                                                                        "started_at": NOW.isoformat()})
    with pytest.raises(SyncError) as e:
        await w.engine.push(w.rep, PushRequest(1, "devA_0001", w.tick("devA_0001"), [m]))
    assert (e.value.status, e.value.code, e.value.extra["max_ahead_ms"]) == (409, "clock_skew", 60_000)
    ok = Create(1, w.tick("devB_0001", ahead_ms=59_000), "visits", uid(), {"customer_id": w.customer,
                                                                         "started_at": NOW.isoformat()})
    assert (await w.engine.push(w.rep, PushRequest(1, "devB_0001", w.tick("devB_0001"), [ok]))).results[0].status == "applied"
    # number 1 of devA was not consumed; the device resets its clock (R-HLC-9) and retries
    w.clock("devA_0001").reset(NOW_MS)
    again = Create(1, w.tick("devA_0001"), "visits", uid(), {"customer_id": w.customer, "started_at": NOW.isoformat()})
    resp = await w.engine.push(w.rep, PushRequest(1, "devA_0001", w.tick("devA_0001"), [again]))
    assert resp.last_n == 1 and resp.results[0].status == "applied"


# --- idempotent push ----------------------------------------------------------------------------


async def test_later_server_stamps_exceed_every_clock_a_push_carried(w: W) -> None:
    """R-HLC-6 on the server: once a push is applied, every stamp the server makes (its
    answer's clock, the clocks of rows it writes) is greater than each mutation's clock,
    whatever their order in the push; a clock the push was not allowed to carry (another
    node's) is rejected with its mutation."""

    def hlc(ahead_ms: int, node: str = "devA_0001") -> str:
        return f"{NOW_MS + ahead_ms:012x}-0000-{node}"

    visit = {"customer_id": w.customer, "started_at": NOW.isoformat()}
    resp = await w.engine.push(w.rep, PushRequest(1, "devA_0001", hlc(0), [
        Create(1, hlc(50_000), "visits", uid(), visit),
        Create(2, hlc(10_000), "visits", uid(), visit),
        Create(3, hlc(55_000, "devZ_0001"), "visits", uid(), visit),
    ]))
    assert [(r.status, r.code) for r in resp.results] == [("applied", None), ("applied", None), ("rejected", "validation")]
    assert resp.clock > hlc(50_000)
    row = await w.engine.run(w.admin, lambda ctx: ctx.create_as_server("regions", {"id": uid(), "name": "North"}))
    assert row["clocks"]["name"] > resp.clock


async def test_replay_gap_and_rejection_numbers(w: W) -> None:
    c = "devA_0001"
    m1 = w.create(c, "visits", {"customer_id": w.customer, "started_at": NOW.isoformat()})
    m2 = w.create(c, "visits", {"customer_id": w.customer, "started_at": "not a time"})
    first = await w.push(w.rep, c, m1, m2)
    assert [r.status for r in first.results] == ["applied", "rejected"]
    assert first.results[1].code == "validation" and "started_at" in (first.results[1].message or "")
    replay = await w.push(w.rep, c, m1, m2)
    assert [(r.status, r.replayed) for r in replay.results] == [("applied", True), ("rejected", True)]
    m4 = Create(4, w.tick(c), "visits", uid(), {"customer_id": w.customer, "started_at": NOW.isoformat()})
    with pytest.raises(SyncError) as e:
        await w.push(w.rep, c, m4)
    assert (e.value.code, e.value.extra["expected"]) == ("sequence_gap", 3)
    visits = [r for r in w.store.state.tables["visits"].values()]
    assert len(visits) == 1


async def test_nonconsecutive_and_too_many(w: W) -> None:
    c = "devA_0001"
    a = w.create(c, "visits", {"customer_id": w.customer, "started_at": NOW.isoformat()})
    b = Create(3, w.tick(c), "visits", uid(), {})
    with pytest.raises(SyncError) as e:
        await w.push(w.rep, c, a, b)
    assert e.value.code == "validation"
    many = [Create(i, w.tick(c), "visits", uid(), {}) for i in range(1, 502)]
    with pytest.raises(SyncError) as e:
        await w.push(w.rep, c, *many)
    assert (e.value.status, e.value.code, e.value.extra["limit"]) == (413, "too_large", 500)


async def test_client_id_of_another_user(w: W) -> None:
    await w.push(w.rep, "devA_0001", w.create("devA_0001", "notes", {"customer_id": w.customer, "body": "x"}))
    with pytest.raises(SyncError) as e:
        await w.push(w.rep2, "devA_0001", Create(2, w.tick("devA_0001"), "notes", uid(), {}))
    assert e.value.code == "client_mismatch"


async def test_create_existing_id_is_duplicate(w: W) -> None:
    vid = uid()
    row = {"customer_id": w.customer, "started_at": NOW.isoformat()}
    r1 = await w.push(w.rep, "devA_0001", w.create("devA_0001", "visits", row, vid))
    r2 = await w.push(w.rep, "devB_0001", w.create("devB_0001", "visits", row, vid))
    assert (r1.results[0].status, r2.results[0].status) == ("applied", "duplicate")


# --- scope and roles ----------------------------------------------------------------------------


async def test_scope_on_push(w: W) -> None:
    c = "devA_0001"
    res = (await w.push(
        w.rep, c,
        w.create(c, "visits", {"customer_id": w.customer2, "started_at": NOW.isoformat()}),
        w.put(c, "customers", w.customer2, phone=("1", None)),
        w.put(c, "customers", str(uuid.uuid4()), phone=("1", None)),
        Command(w.n(c), w.tick(c), "reassign_customer", {"customer_id": w.customer, "to_rep_id": str(w.rep2.user_id)}),
        w.put(c, "gifts", uid(), review_status=("approved", None)),
        w.put(c, "customers", w.customer, owner_id=(str(w.rep.user_id), None)),
        w.put(c, "customers", w.customer, deleted=(True, None)),
        Command(w.n(c), w.tick(c), "launch_rockets", {}),
        w.create(c, "users", {"username": "x", "role": "admin"}),
        w.create(c, "nope", {}),
    )).results
    assert [(r.status, r.code) for r in res] == [
        ("rejected", "not_found"),
        ("rejected", "not_found"),
        ("rejected", "not_found"),
        ("rejected", "forbidden"),
        ("rejected", "forbidden"),
        ("rejected", "validation"),
        ("rejected", "validation"),
        ("rejected", "unknown_command"),
        ("rejected", "forbidden"),
        ("rejected", "validation"),
    ]
    other = await w.push(w.other_manager, "devM_0002", w.put("devM_0002", "customers", w.customer, phone=("9", None)))
    assert other.results[0].code == "not_found"


async def test_rep_customer_belongs_to_rep_and_manager_assigns_in_region(w: W) -> None:
    cid = uid()
    await w.push(w.rep, "devA_0001", w.create("devA_0001", "customers", {"name": "Mine", "owner_id": str(w.rep2.user_id)}, cid))
    row = await w.row("customers", cid)
    assert (row["owner_id"], row["region_id"]) == (str(w.rep.user_id), w.region)
    res = await w.push(w.manager, "devM_0001", w.create("devM_0001", "customers", {"name": "X", "owner_id": str(w.other_rep.user_id)}))
    assert res.results[0].code == "out_of_scope"


# --- facts, gifts, conflicts ----------------------------------------------------------------------


async def test_gift_over_cap_is_kept_and_flagged(w: W) -> None:
    c = "devA_0001"
    g1, g2 = uid(), uid()
    res = await w.push(w.rep, c,
                       w.create(c, "gifts", {"customer_id": w.customer, "item_id": w.item, "quantity": 2}, g1),
                       w.create(c, "gifts", {"customer_id": w.customer, "item_id": w.item, "quantity": 1}, g2))
    assert [r.status for r in res.results] == ["applied", "applied"]
    first, second = await w.row("gifts", g1), await w.row("gifts", g2)
    assert (first["over_cap"], first["review_status"], first["unit_value"]) == (False, "none", "40.00")
    assert (second["over_cap"], second["review_status"]) == (True, "pending")
    approve = await w.push(w.manager, "devM_0001", w.put("devM_0001", "gifts", g2, review_status=("approved", second["clocks"]["review_status"])))
    assert approve.results[0].status == "applied"


async def test_concurrent_puts_keep_the_loser(w: W) -> None:
    base = (await w.row("customers", w.customer))["clocks"]["phone"]
    a = w.put("devA_0001", "customers", w.customer, phone=("111", base))
    b = w.put("devM_0001", "customers", w.customer, phone=("222", base))  # later clock
    ra = await w.push(w.rep, "devA_0001", a)
    rb = await w.push(w.manager, "devM_0001", b)
    assert ra.results[0].status == "applied"
    assert rb.results[0].status == "conflict" and len(rb.results[0].conflicts) == 1
    row = await w.row("customers", w.customer)
    assert row["phone"] == "222"
    conflict = await w.row("conflicts", rb.results[0].conflicts[0])
    assert (conflict["losing_value"], conflict["losing_clock"], conflict["losing_author"]) == ("111", a.hlc, str(w.rep.user_id))
    assert (conflict["owner_id"], conflict["region_id"]) == (str(w.rep.user_id), w.region)
    # the late, older write loses and is kept too
    late = w.put("devC_0001", "customers", w.customer, phone=("333", base))
    assert a.hlc < late.hlc < b.hlc
    rc = await w.push(w.rep, "devC_0001", late)
    assert rc.results[0].status == "conflict"
    assert (await w.row("customers", w.customer))["phone"] == "222"
    # restoring is an ordinary put with the current clock as base
    restore = w.put("devA_0001", "customers", w.customer, phone=("111", row["clocks"]["phone"]))
    assert (await w.push(w.rep, "devA_0001", restore)).results[0].status == "applied"
    assert (await w.row("customers", w.customer))["phone"] == "111"


async def test_stale_clock_rejected(w: W) -> None:
    future_base = w.clock("x_other_1").tick(NOW_MS + 30_000)
    m = Put(w.n("devA_0001"), w.tick("devA_0001"), "customers", w.customer, {"phone": FieldWrite("1", future_base)})
    res = await w.push(w.rep, "devA_0001", m)
    assert res.results[0].code == "validation" and "stale clock" in (res.results[0].message or "")


# --- pull, buckets, reassignment ------------------------------------------------------------------


def device(w: W, actor: Actor, name: str) -> tuple[Device, EngineTransport]:
    return Device(client_id=name, user=actor, wall=lambda: NOW_MS), EngineTransport(lambda: w.engine)


async def test_pull_scope_pages_and_checksums(w: W) -> None:
    c = "devA_0001"
    await w.push(w.rep, c, *[w.create(c, "notes", {"customer_id": w.customer, "body": f"n{i}"}) for i in range(30)])
    d, t = device(w, w.rep, "devA_0001")
    await d.pull(t, limit=7)
    assert d.last_checksums_ok
    assert len(d.rows("notes")) == 30
    assert set(d.rows("customers")) == {w.customer}
    assert not d.rows("users")
    m, t2 = device(w, w.manager, "devM_0001")
    await m.pull(t2)
    assert set(m.rows("customers")) == {w.customer, w.customer2}
    assert len(m.rows("users")) == 3
    o, t3 = device(w, w.other_manager, "devM_0002")
    await o.pull(t3)
    assert not o.rows("customers") and len(o.rows("regions")) == 2


async def test_initial_sync_brings_today_plan_first(w: W) -> None:
    c = "devA_0001"
    await w.push(w.rep, c, *[w.create(c, "notes", {"customer_id": w.customer, "body": "x"}) for _ in range(5)])
    plan = uid()
    await w.push(w.rep, c, w.create(c, "planned_revisits", {"customer_id": w.customer, "due_date": "2026-11-25"}, plan))
    req = PullRequest(1, "devZ_0001", w.tick("devZ_0001"), None, 500, "2026-11-25")
    first = await w.engine.pull(w.rep, req)
    assert [ch.table for ch in first.changes] == ["customers", "planned_revisits"] and first.more
    second = await w.engine.pull(w.rep, PullRequest(1, "devZ_0001", w.tick("devZ_0001"), first.cursor))
    assert not second.more and any(ch.id == plan for ch in second.changes)


async def test_reassignment_moves_everything(w: W) -> None:
    c = "devA_0001"
    await w.push(w.rep, c, w.create(c, "visits", {"customer_id": w.customer, "started_at": NOW.isoformat()}),
                 w.create(c, "contacts", {"customer_id": w.customer, "name": "Li"}))
    a, ta = device(w, w.rep, "devA_0001")
    b, tb = device(w, w.rep2, "devB_0001")
    await a.pull(ta)
    await b.pull(tb)
    assert w.customer in a.rows("customers") and w.customer not in b.rows("customers")
    res = await w.push(w.manager, "devM_0001",
                       Command(w.n("devM_0001"), w.tick("devM_0001"), "reassign_customer",
                               {"customer_id": w.customer, "to_rep_id": str(w.rep2.user_id)}))
    assert res.results[0].status == "applied"
    await a.pull(ta)
    await b.pull(tb)
    assert not a.rows("customers") and not a.rows("visits") and not a.rows("contacts")
    assert w.customer in b.rows("customers") and len(b.rows("visits")) == 1 and len(b.rows("contacts")) == 1
    assert a.last_checksums_ok and b.last_checksums_ok
    bad = await w.push(w.manager, "devM_0001",
                       Command(w.n("devM_0001"), w.tick("devM_0001"), "reassign_customer",
                               {"customer_id": w.customer, "to_rep_id": str(w.other_rep.user_id)}))
    assert bad.results[0].code == "out_of_scope"


async def test_resync_reasons(w: W) -> None:
    d, t = device(w, w.rep, "devA_0001")
    await d.pull(t)
    cursor = d.cursor
    assert cursor
    for bad in ("%%%", "eyJ4IjoxfQ"):
        with pytest.raises(SyncError) as e:
            await w.engine.pull(w.rep, PullRequest(1, "devA_0001", w.tick("devA_0001"), bad))
        assert (e.value.code, e.value.extra["reason"]) == ("resync_required", "bad_cursor")
    snap = w.store.snapshot()
    w.store.restore(snap)  # a restore: same data, new epoch
    with pytest.raises(SyncError) as e:
        await w.engine.pull(w.rep, PullRequest(1, "devA_0001", w.tick("devA_0001"), cursor))
    assert e.value.extra["reason"] == "epoch"
    d.outbox.append(Create(d.next_n, d.clock.tick(NOW_MS), "notes", uid(), {"customer_id": w.customer, "body": "kept"}))
    await d.sync(t)  # device resyncs and keeps its outbox
    assert d.stats["resyncs"] == 1 and not d.outbox and len(d.rows("notes")) == 1


async def test_restore_to_older_backup_renumbers(w: W) -> None:
    d, t = device(w, w.rep, "devA_0001")
    snap = w.store.snapshot()
    d.create("notes", {"customer_id": w.customer, "body": "one"})
    d.create("notes", {"customer_id": w.customer, "body": "two"})
    await d.sync(t)
    w.store.restore(snap)  # the server forgets both notes and last_n
    d.create("notes", {"customer_id": w.customer, "body": "three"})
    await d.sync(t)
    assert d.stats["renumbered"] == 1
    assert [r["body"] for r in d.rows("notes").values()] == ["three"]


async def test_compaction_forces_old_cursors_to_resync(w: W) -> None:
    c = "devA_0001"
    nid = uid()
    await w.push(w.rep, c, w.create(c, "notes", {"customer_id": w.customer, "body": "x"}, nid))
    old, t_old = device(w, w.rep, "devOld_01")
    await old.pull(t_old)
    note = await w.row("notes", nid)
    await w.push(w.rep, c, w.put(c, "notes", nid, deleted=(True, note["clocks"]["deleted"])))
    fresh, t_new = device(w, w.rep, "devNew_01")
    await fresh.pull(t_new)
    await fresh.pull(t_new)  # records its position
    await w.engine.settle()  # the pulls' records are written (they do not hold the answers)
    w.store.state.clients.pop("devOld_01")  # the old device is no longer active
    assert await w.engine.compact() > 0
    assert nid not in w.store.state.tables["notes"]
    with pytest.raises(SyncError) as e:
        await w.engine.pull(w.rep, PullRequest(1, "devOld_01", w.tick("devOld_01"), old.cursor))
    assert e.value.extra["reason"] == "compacted"
    await old.pull(t_old)
    assert old.stats["resyncs"] == 1 and not old.rows("notes")


async def test_adjust_stock(w: W) -> None:
    c = "devM_0001"
    cmd = lambda delta: Command(w.n(c), w.tick(c), "adjust_stock",  # noqa: E731
                                {"rep_id": str(w.rep.user_id), "item_id": w.item, "delta": delta, "reason": "restock"})
    res = await w.push(w.manager, c, cmd(5), cmd(-6), cmd(-5))
    assert [(r.status, r.code) for r in res.results] == [("applied", None), ("rejected", "insufficient_stock"), ("applied", None)]
    res = await w.push(w.other_manager, "devM_0002", Command(1, w.tick("devM_0002"), "adjust_stock",
                       {"rep_id": str(w.rep.user_id), "item_id": w.item, "delta": 1}))
    assert res.results[0].code == "not_found"


def test_results_roundtrip() -> None:
    from sync.messages import MutationResult, result_decoder

    r = MutationResult(3, "conflict", conflicts=["a"])
    assert result_decoder.decode(msgspec.json.encode(r)) == r


async def test_malformed_mutation_is_rejected_alone(w: W) -> None:
    """R-PUSH-10: one bad outbox entry never blocks the rest."""
    c = "devA_0001"

    def note(n: int) -> dict[str, Any]:
        return {"kind": "create", "n": n, "hlc": w.tick(c), "table": "notes", "id": uid(),
                "row": {"customer_id": w.customer, "body": "ok"}}

    muts = [note(1), {"kind": "teleport", "n": 2, "hlc": w.tick(c)},
            {"kind": "put", "n": 3, "hlc": w.tick(c), "table": "customers", "id": w.customer, "fields": {},
             "extra": 1},
            note(4)]
    body = msgspec.json.encode({"protocol": 1, "client_id": c, "clock": w.tick(c), "mutations": muts})
    resp = await w.engine.push(w.rep, parse_request(body, push_request_decoder))
    assert [(r.status, r.code) for r in resp.results] == [
        ("applied", None), ("rejected", "validation"), ("rejected", "validation"), ("applied", None)]
    assert resp.last_n == 4
    bad = msgspec.json.encode({"protocol": 1, "client_id": c, "clock": w.tick(c),
                               "mutations": [{"kind": "create", "hlc": w.tick(c)}]})
    with pytest.raises(SyncError) as e:
        await w.engine.push(w.rep, parse_request(bad, push_request_decoder))
    assert e.value.code == "validation" and "n" in e.value.message

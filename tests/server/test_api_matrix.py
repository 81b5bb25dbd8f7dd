"""The authorization matrix (issue 8): every endpoint x every role x whose object.

Callers: ``rob`` (rep, North), ``ann`` (manager, North), ``admin``, and nobody (no token).
Objects: ``own`` (rob's customer and its records), ``peer`` (rita's: another rep of the
same region), ``other`` (sue's: another region). Each case gets fresh objects, so a
DELETE in one case cannot change the next.

Every ``/api`` route of the app must have a row in ``MATRIX``; a new endpoint without
one fails ``test_every_endpoint_has_a_row``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from tests.server.api_data import Records, seed_customer, seed_reference
from tests.server.world import World

CALLERS = ("rob", "ann", "admin")
WHOSE = {"own": "rob", "peer": "rita", "other": "sue"}

Expect = dict[str, dict[str, int]]


def scoped(ok: int) -> Expect:
    """Customer data: rep -> own only; manager -> own region; admin -> all; else 404."""
    return {
        "rob": {"own": ok, "peer": 404, "other": 404},
        "ann": {"own": ok, "peer": ok, "other": 404},
        "admin": {"own": ok, "peer": ok, "other": ok},
    }


def staff_scoped(ok: int) -> Expect:
    """Manager actions on customer data: reps 403; managers their region; admin all."""
    return {
        "rob": {"own": 403, "peer": 403, "other": 403},
        "ann": {"own": ok, "peer": ok, "other": 404},
        "admin": {"own": ok, "peer": ok, "other": ok},
    }


def everyone(ok: int) -> Expect:
    return {who: {w: ok for w in WHOSE} for who in CALLERS}


def staff(ok: int) -> Expect:
    return {
        "rob": {w: 403 for w in WHOSE},
        "ann": {w: ok for w in WHOSE},
        "admin": {w: ok for w in WHOSE},
    }


def admin_only(ok: int) -> Expect:
    return {
        "rob": {w: 403 for w in WHOSE},
        "ann": {w: 403 for w in WHOSE},
        "admin": {w: ok for w in WHOSE},
    }


@dataclass
class Ctx:
    """What a case may refer to: the target's records and the world's reference rows."""

    world: World
    target: Records
    whose: str
    item: UUID
    rule: UUID
    region: UUID
    scratch_user: UUID
    empty_region: UUID  # a region with nobody in it (deletable)

    def rep_of_target_region(self) -> UUID:
        # a second active rep of the target's region (the reassignment target)
        return {
            "rob": self.world["rita"].id,
            "rita": self.world["rob"].id,
            "sue": self.world["sue2"].id,
        }[self.whose]


Body = Callable[[Ctx], Any]


@dataclass
class Row:
    expect: Expect
    path: Callable[[Ctx], str] | None = None  # None: the route's own path
    body: Body | None = None
    anon: int = 401
    note: str = ""


def at(kind: str, suffix: str = "") -> Callable[[Ctx], str]:
    base = {
        "customer": "/api/customers/{}",
        "contact": "/api/contacts/{}",
        "visit": "/api/visits/{}",
        "gift": "/api/gifts/{}",
        "note": "/api/notes/{}",
        "plan": "/api/planned-revisits/{}",
        "conflict": "/api/conflicts/{}",
    }[kind]
    return lambda c: base.format(c.target[kind]) + suffix


def const(path: str) -> Callable[[Ctx], str]:
    return lambda c: path


STARTED = "2026-11-24T09:30:00+08:00"


def _sync_body(**fields: Any) -> dict[str, Any]:
    """A minimal valid sync envelope from a brand-new device (docs/sync-protocol.md §4, §9)."""
    import time

    client_id = uuid4().hex
    clock = f"{int(time.time() * 1000):012x}-0000-{client_id}"
    return {"protocol": 1, "client_id": client_id, "clock": clock, **fields}


MATRIX: dict[tuple[str, str], Row] = {
    # --- open and self ----------------------------------------------------------------
    ("GET", "/api/health"): Row(everyone(200), anon=200),
    ("GET", "/api/me"): Row(everyone(200)),
    ("POST", "/api/auth/login"): Row(
        everyone(401),
        body=lambda c: {"username": "rob", "password": "nope"},
        anon=401,
        note="wrong password: 401 bad_credentials for anyone",
    ),
    ("POST", "/api/auth/refresh"): Row(
        everyone(401), body=lambda c: {"refresh_token": "x"}, anon=401
    ),
    ("POST", "/api/auth/logout"): Row(everyone(204), body=lambda c: {}),
    # --- customers ----------------------------------------------------------------------
    ("GET", "/api/customers"): Row(everyone(200)),
    ("POST", "/api/customers"): Row(
        everyone(201), body=lambda c: {"name": "New Co", "tier": "B", "region_id": str(c.region)}
    ),
    ("GET", "/api/customers/{customer_id:uuid}"): Row(scoped(200), at("customer")),
    ("PATCH", "/api/customers/{customer_id:uuid}"): Row(
        scoped(200), at("customer"), lambda c: {"phone": "+86 1"}
    ),
    ("POST", "/api/customers/{customer_id:uuid}/reassign"): Row(
        staff_scoped(200),
        at("customer", "/reassign"),
        lambda c: {"to_rep_id": str(c.rep_of_target_region())},
    ),
    ("POST", "/api/customers/reassign"): Row(
        staff_scoped(200),
        None,
        lambda c: {
            "customer_ids": [str(c.target.customer)],
            "to_rep_id": str(c.rep_of_target_region()),
        },
    ),
    # --- contacts -----------------------------------------------------------------------
    ("GET", "/api/customers/{customer_id:uuid}/contacts"): Row(
        scoped(200), at("customer", "/contacts")
    ),
    ("POST", "/api/customers/{customer_id:uuid}/contacts"): Row(
        scoped(201), at("customer", "/contacts"), lambda c: {"name": "Li Lei", "phone": "138"}
    ),
    ("GET", "/api/contacts/{contact_id:uuid}"): Row(scoped(200), at("contact")),
    ("PATCH", "/api/contacts/{contact_id:uuid}"): Row(
        scoped(200), at("contact"), lambda c: {"title": "CFO"}
    ),
    ("DELETE", "/api/contacts/{contact_id:uuid}"): Row(scoped(204), at("contact")),
    # --- visits -------------------------------------------------------------------------
    ("GET", "/api/visits"): Row(everyone(200)),
    ("POST", "/api/visits"): Row(
        scoped(201), None, lambda c: {"customer_id": str(c.target.customer), "started_at": STARTED}
    ),
    ("GET", "/api/visits/{visit_id:uuid}"): Row(scoped(200), at("visit")),
    ("DELETE", "/api/visits/{visit_id:uuid}"): Row(scoped(204), at("visit")),
    ("GET", "/api/customers/{customer_id:uuid}/visits"): Row(
        scoped(200), at("customer", "/visits")
    ),
    # --- gifts --------------------------------------------------------------------------
    ("GET", "/api/gifts"): Row(everyone(200)),
    ("POST", "/api/gifts"): Row(
        scoped(201), None, lambda c: {"customer_id": str(c.target.customer), "item_id": str(c.item)}
    ),
    ("GET", "/api/gifts/{gift_id:uuid}"): Row(scoped(200), at("gift")),
    ("PATCH", "/api/gifts/{gift_id:uuid}"): Row(
        staff_scoped(200),
        at("gift"),
        lambda c: {"review_status": "approved", "review_comment": "ok"},
    ),
    ("DELETE", "/api/gifts/{gift_id:uuid}"): Row(scoped(204), at("gift")),
    ("GET", "/api/customers/{customer_id:uuid}/gifts"): Row(scoped(200), at("customer", "/gifts")),
    # --- notes --------------------------------------------------------------------------
    ("GET", "/api/notes"): Row(everyone(200)),
    ("POST", "/api/notes"): Row(
        scoped(201),
        None,
        lambda c: {"customer_id": str(c.target.customer), "body": "hi", "kind": "feedback"},
    ),
    ("GET", "/api/notes/{note_id:uuid}"): Row(scoped(200), at("note")),
    ("PATCH", "/api/notes/{note_id:uuid}"): Row(
        scoped(200), at("note"), lambda c: {"status": "resolved"}
    ),
    ("DELETE", "/api/notes/{note_id:uuid}"): Row(scoped(204), at("note")),
    ("GET", "/api/customers/{customer_id:uuid}/notes"): Row(scoped(200), at("customer", "/notes")),
    # --- planned revisits ---------------------------------------------------------------
    ("GET", "/api/planned-revisits"): Row(everyone(200)),
    ("POST", "/api/planned-revisits"): Row(
        scoped(201),
        None,
        lambda c: {"customer_id": str(c.target.customer), "due_date": "2026-12-01"},
    ),
    ("GET", "/api/planned-revisits/{plan_id:uuid}"): Row(scoped(200), at("plan")),
    ("PATCH", "/api/planned-revisits/{plan_id:uuid}"): Row(
        scoped(200), at("plan"), lambda c: {"due_date": "2026-12-03"}
    ),
    # --- conflicts ----------------------------------------------------------------------
    ("GET", "/api/conflicts"): Row(everyone(200)),
    ("GET", "/api/conflicts/{conflict_id:uuid}"): Row(scoped(200), at("conflict")),
    ("POST", "/api/conflicts/{conflict_id:uuid}/restore"): Row(
        scoped(200), at("conflict", "/restore")
    ),
    ("POST", "/api/conflicts/{conflict_id:uuid}/dismiss"): Row(
        scoped(200), at("conflict", "/dismiss")
    ),
    # --- directory ----------------------------------------------------------------------
    ("GET", "/api/users"): Row(staff(200)),
    ("GET", "/api/gift-items"): Row(everyone(200)),
    ("GET", "/api/regions"): Row(everyone(200)),
    # --- sync (scope is checked inside: every role may push and pull its own buckets) -------
    ("POST", "/api/sync/push"): Row(everyone(200), None, lambda c: _sync_body(mutations=[])),
    ("POST", "/api/sync/pull"): Row(everyone(200), None, lambda c: _sync_body(cursor=None)),
    ("GET", "/api/sync/verify"): Row(everyone(200), const("/api/sync/verify?protocol=1")),
    # --- push and planning (teammates' areas: the caller's own data) ---------------------
    ("GET", "/api/push/vapid-public-key"): Row(everyone(200), anon=200),
    ("POST", "/api/push/subscriptions"): Row(
        everyone(201),
        None,
        lambda c: {
            "endpoint": f"https://push.example.test/{uuid4().hex}",
            "keys": {
                "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                "auth": "tBHItJI5svbpez7KI4CCXg",
            },
            "device_id": "matrix-device",
        },
    ),
    ("GET", "/api/push/subscriptions"): Row(everyone(200)),
    ("DELETE", "/api/push/subscriptions"): Row(
        everyone(204), None, lambda c: {"device_id": "matrix-device"}
    ),
    ("GET", "/api/reminders"): Row(everyone(200)),
    ("GET", "/api/planning/forgotten"): Row(everyone(200)),
    # --- reports (region-wide figures: reps 403, managers their region, admins any) -------
    ("GET", "/api/reports/coverage"): Row(staff(200)),
    # --- CSV export (every role: what it may see) ----------------------------------------
    ("GET", "/api/export/customers.csv"): Row(everyone(200)),
    ("GET", "/api/export/visits.csv"): Row(everyone(200)),
    ("GET", "/api/export/gifts.csv"): Row(everyone(200)),
    # --- CSV import (admins). A JSON body is no customer CSV: preview reports the missing
    # columns (200), apply refuses with that report (409); the row checks the role guard.
    ("POST", "/api/import/customers/preview"): Row(admin_only(200), None, lambda c: {"a": 1}),
    ("POST", "/api/import/customers/apply"): Row(admin_only(409), None, lambda c: {"a": 1}),
    # --- admin --------------------------------------------------------------------------
    ("GET", "/api/admin/users"): Row(admin_only(200)),
    ("POST", "/api/admin/users"): Row(
        admin_only(201),
        None,
        lambda c: {
            "username": f"u{uuid4().hex[:8]}",
            "password": "long enough pw",
            "role": "rep",
            "region_id": str(c.region),
        },
    ),
    ("GET", "/api/admin/users/{user_id:uuid}"): Row(
        admin_only(200), lambda c: f"/api/admin/users/{c.scratch_user}"
    ),
    ("PATCH", "/api/admin/users/{user_id:uuid}"): Row(
        admin_only(200),
        lambda c: f"/api/admin/users/{c.scratch_user}",
        lambda c: {"display_name": "Renamed"},
    ),
    ("POST", "/api/admin/users/{user_id:uuid}/password"): Row(
        admin_only(204),
        lambda c: f"/api/admin/users/{c.scratch_user}/password",
        lambda c: {"password": "another long pw"},
    ),
    ("GET", "/api/admin/regions"): Row(admin_only(200)),
    ("POST", "/api/admin/regions"): Row(
        admin_only(201), None, lambda c: {"name": f"R {uuid4().hex[:8]}"}
    ),
    ("GET", "/api/admin/regions/{region_id:uuid}"): Row(
        admin_only(200), lambda c: f"/api/admin/regions/{c.region}"
    ),
    ("PATCH", "/api/admin/regions/{region_id:uuid}"): Row(
        admin_only(200),
        lambda c: f"/api/admin/regions/{c.region}",
        lambda c: {"time_zone": "Asia/Tokyo"},
    ),
    ("DELETE", "/api/admin/regions/{region_id:uuid}"): Row(
        admin_only(204),
        lambda c: f"/api/admin/regions/{c.empty_region}",
    ),
    ("GET", "/api/admin/cadence-rules"): Row(admin_only(200)),
    ("POST", "/api/admin/cadence-rules"): Row(
        admin_only(201),
        None,
        lambda c: {"tier": "B", "interval_days": 30, "region_id": str(c.empty_region)},
    ),
    ("GET", "/api/admin/cadence-rules/{rule_id:uuid}"): Row(
        admin_only(200), lambda c: f"/api/admin/cadence-rules/{c.rule}"
    ),
    ("PATCH", "/api/admin/cadence-rules/{rule_id:uuid}"): Row(
        admin_only(200),
        lambda c: f"/api/admin/cadence-rules/{c.rule}",
        lambda c: {"interval_days": 21},
    ),
    ("DELETE", "/api/admin/cadence-rules/{rule_id:uuid}"): Row(
        admin_only(204), lambda c: f"/api/admin/cadence-rules/{c.rule}"
    ),
    ("GET", "/api/admin/gift-items"): Row(admin_only(200)),
    ("POST", "/api/admin/gift-items"): Row(
        admin_only(201),
        None,
        lambda c: {"name_en": "Pen", "name_zh": "笔", "unit_value": "5.00", "yearly_cap": "50.00"},
    ),
    ("GET", "/api/admin/gift-items/{item_id:uuid}"): Row(
        admin_only(200), lambda c: f"/api/admin/gift-items/{c.item}"
    ),
    ("PATCH", "/api/admin/gift-items/{item_id:uuid}"): Row(
        admin_only(200),
        lambda c: f"/api/admin/gift-items/{c.item}",
        lambda c: {"yearly_cap": "500.00"},
    ),
    ("DELETE", "/api/admin/gift-items/{item_id:uuid}"): Row(
        admin_only(204), lambda c: f"/api/admin/gift-items/{c.item}"
    ),
}


def api_routes(app: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if not route.path.startswith("/api"):
            continue
        for method in getattr(route, "methods", ()):
            if method not in ("OPTIONS", "HEAD"):
                found.add((method, route.path))
    return found


async def test_every_endpoint_has_a_row(app: Any) -> None:
    missing = sorted(api_routes(app) - set(MATRIX))
    assert not missing, f"endpoints without an authorization-matrix row: {missing}"
    stale = sorted(set(MATRIX) - api_routes(app))
    assert not stale, f"matrix rows for endpoints that no longer exist: {stale}"


async def _context(world: World, whose: str) -> Ctx:
    from server.db import write_transaction

    async with write_transaction():  # one commit per context keeps the table quick
        return await _fresh_context(world, whose)


async def _fresh_context(world: World, whose: str) -> Ctx:
    from server.users import create_user, ensure_region

    item, rule = await seed_reference()
    target = await seed_customer(world[WHOSE[whose]], item)
    if "sue2" not in world.people:
        from tests.server.world import Person

        sue2 = await create_user("sue2", "long enough pw", "rep", world.south, password_hash="x")
        world.people["sue2"] = Person("sue2", "rep", sue2, world.south)
    scratch = await create_user(f"s{uuid4().hex[:8]}", "pw", "rep", world.north, password_hash="x")
    empty = await ensure_region(f"Empty {uuid4().hex[:6]}")
    return Ctx(world, target, WHOSE[whose], item, rule, world.north, scratch, empty)


async def test_matrix(client: Any, world: World) -> None:
    """Every row: each caller against own / peer / other objects, and no token at all.

    One database for the whole table (fresh objects per case) keeps it quick; every
    mismatch is collected so one run shows the whole picture."""
    failures = []
    shared = {whose: await _context(world, whose) for whose in WHOSE}  # for reads
    for (method, route), row in MATRIX.items():
        cases = [(who, whose) for who in CALLERS for whose in WHOSE] + [(None, "own")]
        for who, whose in cases:
            ctx = shared[whose] if method == "GET" else await _context(world, whose)
            path = row.path(ctx) if row.path else route
            body = row.body(ctx) if row.body else None
            kwargs: dict[str, Any] = {"headers": world[who].headers if who else {}}
            if body is not None:
                kwargs["json"] = body
            response = await client.request(method, path, **kwargs)
            expected = row.expect[who][whose] if who else row.anon
            if response.status_code != expected:
                failures.append(
                    f"{method} {route} as {who or 'anonymous'} on {whose}: "
                    f"{response.status_code} != {expected} {response.text[:160]}"
                )
            elif response.status_code >= 400 and not response.headers["content-type"].startswith(
                "application/problem+json"
            ):
                failures.append(f"{method} {route}: error without problem+json")
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures)

"""Demo data: a small, believable sales organisation for trials, screenshots and tests.

``revisit demo`` and ``revisit serve --demo`` call :func:`load_demo`. The data is built in
memory first by :func:`build_demo` (pure, seeded, dates relative to ``now``) so two runs
with the same ``now`` give the same rows, then written in one transaction with chunked
bulk inserts, after which the sync engine's ``finalize_bulk_load`` gives every row its
version, field clocks and bucket checksums. A marker in ``server_settings`` makes a
second run a no-op, and a database that already holds users or customers is left alone.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from piccolo.table import Table

from server import demo_data as pool
from server.planning.cadence import VisitFact, basis_for, plan_id
from server.settings import Settings
from server.tables import (
    CadenceRule,
    Contact,
    Customer,
    Gift,
    GiftItem,
    Note,
    PlannedRevisit,
    Region,
    ServerSetting,
    StockMovement,
    User,
    Visit,
)

SEED = 20261125
DEMO_PASSWORD = "revisit-demo"
MARKER_KEY = "demo_loaded_at"
TZ = ZoneInfo("Asia/Shanghai")
HISTORY_DAYS = 182  # six months of visits
CUSTOMERS_PER_REP = 60
# Per-customer order weights ~ Pareto(2.5); with more, larger orders for higher tiers the
# top 20 % of customers bring about 80 % of the order value.
PARETO_ALPHA = 2.5
MAX_BIND_PARAMS = 32_000  # PostgreSQL/asyncpg refuse more than 32767 per statement

# Insert order: referenced rows first (there are no foreign keys, but it reads right).
TABLE_ORDER: tuple[type[Table], ...] = (
    Region,
    User,
    GiftItem,
    CadenceRule,
    Customer,
    Contact,
    Visit,
    Gift,
    Note,
    PlannedRevisit,
    StockMovement,
)

Status = Literal["loaded", "already_loaded", "not_empty"]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    region: str | None
    display_name: str


@dataclass
class DemoData:
    rows: dict[type[Table], list[Table]]
    logins: list[DemoLogin]

    def counts(self) -> dict[str, int]:
        return {t._meta.tablename: len(self.rows.get(t, [])) for t in TABLE_ORDER}


@dataclass(frozen=True)
class DemoOutcome:
    status: Status
    message: str
    logins: tuple[DemoLogin, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "not_empty"


# --- building (pure) --------------------------------------------------------------------


def _uuid4(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _uuid7(rng: random.Random, at: datetime) -> uuid.UUID:
    """A UUID v7 (time-ordered, as devices create them) from the seeded generator."""
    ms = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    value = (
        (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    )
    return uuid.UUID(int=value)


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _weekday(d: date) -> date:
    """Field reps visit on weekdays: move Saturday/Sunday back to Friday."""
    return d - timedelta(days=max(0, d.weekday() - 4))


@dataclass
class _Customer:
    row: Customer
    city: pool.City
    owner: uuid.UUID
    region: uuid.UUID
    zh: bool
    weight: float = 0.0
    visits: list[Visit] = field(default_factory=list)


class _Builder:
    def __init__(self, now: datetime, password_hash: str, seed: int) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.rng = random.Random(seed)
        self.now = now.astimezone(UTC)
        self.today = self.now.astimezone(TZ).date()
        self.start = self.today - timedelta(days=HISTORY_DAYS)
        self.password_hash = password_hash
        self.rows: dict[type[Table], list[Table]] = defaultdict(list)
        self.logins: list[DemoLogin] = []
        self.reps_by_region: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.manager_of: dict[uuid.UUID, uuid.UUID] = {}
        self.region_of_user: dict[uuid.UUID, uuid.UUID] = {}
        self.items: list[tuple[GiftItem, int]] = []
        self.used_names: set[str] = set()
        self.plans: dict[uuid.UUID, PlannedRevisit] = {}

    def add(self, row: Table) -> None:
        self.rows[type(row)].append(row)

    def at(self, d: date, hour: int, minute: int) -> datetime:
        return datetime.combine(d, time(hour, minute), tzinfo=TZ).astimezone(UTC)

    # -- organisation --

    def organisation(self) -> list[tuple[pool.City, uuid.UUID]]:
        regions = []
        self._user("admin", "系统管理员 Admin", "admin", None, None, "en")
        reps = iter(pool.REPS)
        for index, city in enumerate(pool.CITIES):
            region_id = _uuid4(self.rng)
            self.add(Region(id=region_id, name=city.region, time_zone="Asia/Shanghai"))
            regions.append((city, region_id))
            zh, py = pool.MANAGERS[index]
            self.manager_of[region_id] = self._user(
                py.lower().replace(" ", "."),
                f"{zh} {py}",
                "manager",
                region_id,
                city.region,
                "zh-CN" if index % 2 == 0 else "en",
            )
            self.reps_by_region[region_id] = []
            for n in range(city.reps):
                zh, py = next(reps)
                rep = self._user(
                    py.lower().replace(" ", "."),
                    f"{zh} {py}",
                    "rep",
                    region_id,
                    city.region,
                    "zh-CN" if n % 2 == 0 else "en",
                )
                self.reps_by_region[region_id].append(rep)
        return regions

    def _user(
        self,
        username: str,
        display: str,
        role: str,
        region_id: uuid.UUID | None,
        region_name: str | None,
        locale: str,
    ) -> uuid.UUID:
        user_id = _uuid4(self.rng)
        created = self.at(self.start - timedelta(days=400), 9, 0)
        self.add(
            User(
                id=user_id,
                username=username,
                display_name=display,
                role=role,
                region_id=region_id,
                locale=locale,
                time_zone="Asia/Shanghai",
                password_hash=self.password_hash,
                created_at=created,
            )
        )
        if region_id is not None:
            self.region_of_user[user_id] = region_id
        self.logins.append(DemoLogin(username, DEMO_PASSWORD, role, region_name, display))
        return user_id

    def reference(self) -> None:
        for name_en, name_zh, unit, cap, weight in pool.GIFT_CATALOG:
            item = GiftItem(
                id=_uuid4(self.rng),
                name_en=name_en,
                name_zh=name_zh,
                unit_value=unit,
                currency="CNY",
                yearly_cap=cap,
                active=True,
            )
            self.add(item)
            self.items.append((item, weight))
        for tier, (interval, lead) in pool.CADENCE.items():
            self.add(
                CadenceRule(
                    id=_uuid4(self.rng),
                    tier=tier,
                    region_id=None,
                    stage=None,
                    interval_days=interval,
                    reminder_lead_days=lead,
                )
            )

    # -- customers --

    def customers(self, regions: list[tuple[pool.City, uuid.UUID]]) -> list[_Customer]:
        out: list[_Customer] = []
        serial = 0
        for city, region_id in regions:
            reps = self.reps_by_region[region_id]
            n = CUSTOMERS_PER_REP * len(reps)
            tiers = ["A"] * (n // 5) + ["B"] * (n * 3 // 10)
            tiers += ["C"] * (n - len(tiers))
            self.rng.shuffle(tiers)
            for i, tier in enumerate(tiers):
                serial += 1
                kind = "internal" if i == 0 else self._kind(tier)
                out.append(self._customer(city, region_id, reps[i % len(reps)], tier, kind, serial))
        self._pareto(out)
        return out

    def _kind(self, tier: str) -> str:
        choices = {
            "A": (("business", 80), ("channel", 20)),
            "B": (("business", 65), ("channel", 20), ("consumer", 15)),
            "C": (("business", 50), ("consumer", 40), ("channel", 10)),
        }[tier]
        return self.rng.choices([c for c, _ in choices], [w for _, w in choices])[0]

    def _stage(self, tier: str, key: bool) -> str:
        if key:
            return "key" if self.rng.random() < 0.8 else "active"
        table = {
            "A": (("active", 75), ("at_risk", 15), ("contacted", 5), ("lost", 5)),
            "B": (("active", 60), ("at_risk", 12), ("contacted", 12), ("prospect", 8), ("lost", 8)),
            "C": (
                ("active", 40),
                ("contacted", 20),
                ("prospect", 22),
                ("at_risk", 8),
                ("lost", 10),
            ),
        }[tier]
        return self.rng.choices([s for s, _ in table], [w for _, w in table])[0]

    def _customer(
        self,
        city: pool.City,
        region_id: uuid.UUID,
        owner: uuid.UUID,
        tier: str,
        kind: str,
        serial: int,
    ) -> _Customer:
        rng = self.rng
        key = tier == "A" and kind != "internal" and rng.random() < 0.35
        stage = "active" if kind == "internal" else self._stage(tier, key)
        zh = rng.random() < 0.6
        name = self._name(city, kind, zh)
        district = rng.choice(city.districts)
        road = rng.choice(city.roads)
        number = rng.randint(1, 1688)
        if zh:
            address = f"{city.name_zh}市{district[0]}{road[0]}{number}号"
        else:
            address = f"{number} {road[1]}, {district[1]}, {city.name_en}"
        if kind == "consumer":
            phone = f"+86 1{rng.choice('3578')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        else:
            phone = f"+86 {city.area_code} {rng.randint(5000, 6999)} {rng.randint(1000, 9999)}"
        tags = rng.sample(pool.TAGS, rng.choice((0, 1, 1, 2)))
        if key:
            tags.append("key account")
        if stage == "prospect":
            created = self.today - timedelta(days=rng.randint(3, 90))
        else:
            created = self.start - timedelta(days=rng.randint(20, 900))
        row = Customer(
            id=_uuid4(rng),
            name=name,
            kind=kind,
            tier=tier,
            key_account=key,
            stage=stage,
            owner_id=owner,
            region_id=region_id,
            address=address,
            latitude=round(city.lat + rng.gauss(0, 0.07), 6),
            longitude=round(city.lng + rng.gauss(0, 0.08), 6),
            phone=phone,
            tags=json.dumps(tags, ensure_ascii=False),
            preferences=rng.choice(pool.PREFERENCES),
            external_id=f"DEMO-{serial:04d}",
            archived=stage == "lost" and rng.random() < 0.3,
            created_at=self.at(created, rng.randint(9, 17), rng.randint(0, 59)),
        )
        return _Customer(row, city, owner, region_id, zh)

    def _name(self, city: pool.City, kind: str, zh: bool) -> str:
        rng = self.rng
        for attempt in range(50):
            if kind == "internal":
                name = f"{city.region.split()[0]}区样品仓 {city.name_en} Sample Store"
            elif kind == "consumer":
                surname, given = rng.choice(pool.SURNAMES), rng.choice(pool.GIVEN_NAMES)
                name = (
                    surname[0] + given[0]
                    if zh
                    else f"{rng.choice(pool.ENGLISH_FIRST)} {surname[1]}"
                )
            elif kind == "channel":
                brand = rng.choice(pool.BRANDS_ZH if zh else pool.BRANDS_EN)
                name = (
                    f"{brand}{rng.choice(pool.CHANNELS_ZH)}"
                    if zh
                    else f"{brand} {rng.choice(pool.CHANNELS_EN)}"
                )
            elif zh:
                name = f"{city.name_zh}{rng.choice(pool.BRANDS_ZH)}{rng.choice(pool.TRADES_ZH)}有限公司"
            else:
                name = f"{rng.choice(pool.BRANDS_EN)} {rng.choice(pool.TRADES_EN)}"
                if rng.random() < 0.4:
                    name = f"{city.name_en} {name}"
            if attempt > 20:  # a chain with several branches
                district = rng.choice(city.districts)
                name += f"（{district[0]}店）" if zh else f" ({district[1].split()[0]})"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("name pools exhausted")

    def _pareto(self, customers: list[_Customer]) -> None:
        """Order value per customer follows a Pareto law (about 20 % bring 80 %); the
        largest weights go to key accounts and tier A, with some noise."""
        weights = sorted(
            (min(self.rng.paretovariate(PARETO_ALPHA), 80.0) for _ in customers), reverse=True
        )
        rank = {"A": 0.0, "B": 1.0, "C": 2.0}
        order = sorted(
            customers,
            key=lambda c: (
                rank[c.row.tier] - (0.8 if c.row.key_account else 0) + self.rng.uniform(0, 1.3)
            ),
        )
        for customer, weight in zip(order, weights, strict=True):
            customer.weight = weight

    # -- history --

    def history(self, customers: list[_Customer]) -> None:
        given: Counter[tuple[uuid.UUID, uuid.UUID, int]] = Counter()
        gifts_by_rep: Counter[tuple[uuid.UUID, uuid.UUID]] = Counter()
        for customer in customers:
            self._contacts(customer)
            self._visits(customer, given, gifts_by_rep)
            self._notes(customer)
            self._plan(customer)
        self._stock(gifts_by_rep)
        self._today_plans(customers)

    def _contacts(self, c: _Customer) -> None:
        rng = self.rng
        count = {"business": rng.randint(1, 3), "channel": rng.randint(1, 2), "internal": 1}.get(
            c.row.kind, 0
        )
        for _ in range(count):
            surname, given = rng.choice(pool.SURNAMES), rng.choice(pool.GIVEN_NAMES)
            title = rng.choice(pool.CONTACT_TITLES)
            zh = rng.random() < 0.55
            if zh:
                name, email = surname[0] + given[0], ""
            else:
                first = rng.choice(pool.ENGLISH_FIRST)
                name, email = (
                    f"{first} {surname[1]}",
                    f"{first.lower()}.{surname[1].lower()}@example.cn",
                )
            self.add(
                Contact(
                    id=_uuid4(rng),
                    customer_id=c.row.id,
                    owner_id=c.owner,
                    region_id=c.region,
                    name=name,
                    title=title[0] if zh else title[1],
                    phone=f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                    email=email,
                    created_at=c.row.created_at,
                )
            )

    def _visit_days(self, c: _Customer) -> list[date]:
        rng = self.rng
        interval = pool.CADENCE[c.row.tier][0]
        stage = c.row.stage
        first_allowed = max(self.start, c.row.created_at.astimezone(TZ).date())
        if stage == "prospect":
            return [self.today - timedelta(days=rng.randint(2, 40))] if rng.random() < 0.4 else []
        if stage == "contacted":
            return sorted(
                {self.today - timedelta(days=rng.randint(3, 70)) for _ in range(rng.randint(1, 2))}
            )
        days: list[date] = []
        d = first_allowed + timedelta(days=rng.randint(0, interval - 1))
        end = self.today
        if stage == "lost":
            end = self.today - timedelta(days=rng.randint(90, 150))
        elif stage == "at_risk":
            end = self.today - timedelta(days=int(interval * rng.uniform(1.3, 2.5)))
        elif rng.random() < 0.12:  # slipped: overdue now
            end = self.today - timedelta(days=int(interval * rng.uniform(1.1, 1.6)))
        while d < end:
            days.append(d)
            d += timedelta(days=max(3, round(interval * rng.uniform(0.75, 1.15))))
        return days

    def _visits(
        self,
        c: _Customer,
        given: Counter[tuple[uuid.UUID, uuid.UUID, int]],
        gifts_by_rep: Counter[tuple[uuid.UUID, uuid.UUID]],
    ) -> None:
        rng = self.rng
        tier = c.row.tier
        p_order = {"A": 0.75, "B": 0.55, "C": 0.35}[tier]
        p_gift = {"A": 0.4, "B": 0.22, "C": 0.1}[tier]
        mood = {"at_risk": 2.4, "lost": 2.0}.get(c.row.stage, 4.0)
        days = sorted({_weekday(d) for d in self._visit_days(c)})
        for d in (d for d in days if d < self.today):
            start = self.at(d, rng.randint(9, 16), rng.choice((0, 10, 15, 20, 30, 40, 45, 50)))
            end = start + timedelta(minutes=rng.randint(15, 95))
            value = Decimal("0.00")
            if (
                c.row.kind != "internal"
                and c.row.stage not in ("prospect", "contacted")
                and rng.random() < p_order
            ):
                value = _money(round(c.weight * 900 * rng.lognormvariate(0, 0.35)))
            if value > 0:
                purpose = "order"
                outcome = rng.choice(pool.OUTCOMES_ORDER).format(n=max(1, int(value) // 300))
            else:
                purpose = rng.choice(pool.PURPOSES[2:] + ("routine",) * 3)
                outcome = rng.choice(pool.OUTCOMES_OTHER)
            satisfaction = max(1, min(5, round(rng.gauss(mood, 0.8))))
            visit = Visit(
                id=_uuid7(rng, start),
                customer_id=c.row.id,
                rep_id=c.owner,
                owner_id=c.owner,
                region_id=c.region,
                planned_for=d if rng.random() < 0.8 else None,
                started_at=start,
                ended_at=end,
                latitude=round((c.row.latitude or 0) + rng.gauss(0, 0.0004), 6),
                longitude=round((c.row.longitude or 0) + rng.gauss(0, 0.0004), 6),
                accuracy=round(rng.uniform(4, 45), 1),
                purpose=purpose,
                outcome=outcome,
                satisfaction=satisfaction,
                order_value=value,
                currency="CNY",
                created_at=end,
            )
            self.add(visit)
            c.visits.append(visit)
            if rng.random() < p_gift:
                self._gift(c, visit, given, gifts_by_rep)

    def _gift(
        self,
        c: _Customer,
        visit: Visit,
        given: Counter[tuple[uuid.UUID, uuid.UUID, int]],
        gifts_by_rep: Counter[tuple[uuid.UUID, uuid.UUID]],
    ) -> None:
        """R-CREATE-3: over the item's yearly cap (value per customer and calendar year in
        the region's time zone) the gift is kept, flagged, and waits for review."""
        rng = self.rng
        item = rng.choices([i for i, _ in self.items], [w for _, w in self.items])[0]
        quantity = (
            rng.choice((1, 1, 1, 2, 2, 3, 5)) if item.unit_value < 100 else rng.choice((1, 1, 2))
        )
        at = visit.ended_at - timedelta(minutes=rng.randint(1, 10))
        year = at.astimezone(TZ).year
        key = (c.row.id, item.id, year)
        given[key] += quantity * int(item.unit_value)
        over = given[key] > int(item.yearly_cap)
        status, comment = "none", ""
        if over:
            if self.now - at < timedelta(days=45):
                status = "pending"
            else:
                status = "approved"
                comment = rng.choice(("Approved: annual customer event.", "年度客户答谢，已批准。"))
        self.add(
            Gift(
                id=_uuid7(rng, at),
                customer_id=c.row.id,
                visit_id=visit.id,
                rep_id=visit.rep_id,
                owner_id=c.owner,
                region_id=c.region,
                item_id=item.id,
                quantity=quantity,
                unit_value=item.unit_value,
                currency="CNY",
                given_at=at,
                over_cap=over,
                review_status=status,
                review_comment=comment,
            )
        )
        self.add(
            StockMovement(
                id=_uuid7(rng, at),
                rep_id=visit.rep_id,
                item_id=item.id,
                delta=-quantity,
                reason="gift",
                created_at=at,
                owner_id=visit.rep_id,
                region_id=c.region,
            )
        )
        gifts_by_rep[(visit.rep_id, item.id)] += quantity

    def _stock(self, gifts_by_rep: Counter[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Each rep was stocked up at the start of the period with what they handed out
        since, plus a reserve, so every rep's stock is positive today."""
        rng = self.rng
        at = self.at(self.start - timedelta(days=1), 8, 30)
        for region_id, reps in self.reps_by_region.items():
            for rep in reps:
                for item, _ in self.items:
                    reserve = rng.choice((10, 20, 30, 40))
                    self.add(
                        StockMovement(
                            id=_uuid7(rng, at),
                            rep_id=rep,
                            item_id=item.id,
                            delta=gifts_by_rep[(rep, item.id)] + reserve,
                            reason="restock",
                            created_at=at,
                            owner_id=rep,
                            region_id=region_id,
                        )
                    )

    def _notes(self, c: _Customer) -> None:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3), (40, 35, 18, 7))[0]
        p_complaint = 0.45 if c.row.stage in ("at_risk", "lost") else 0.12
        for _ in range(count):
            if c.visits and rng.random() < 0.7:
                at = rng.choice(c.visits).ended_at + timedelta(minutes=rng.randint(1, 120))
            else:
                day = self.today - timedelta(days=rng.randint(1, HISTORY_DAYS))
                at = self.at(day, rng.randint(8, 19), rng.randint(0, 59))
            at = min(at, self.now - timedelta(hours=1))
            roll = rng.random()
            kind = (
                "complaint"
                if roll < p_complaint
                else "feedback"
                if roll < p_complaint + 0.15
                else "note"
            )
            text = {
                "complaint": pool.COMPLAINTS_TEXT,
                "feedback": pool.FEEDBACK_TEXT,
                "note": pool.NOTES_TEXT,
            }[kind]
            status: str | None = None
            resolved: datetime | None = None
            if kind == "complaint":
                recent = self.now - at < timedelta(days=21)
                status = "open" if rng.random() < (0.7 if recent else 0.15) else "resolved"
                if status == "resolved":
                    resolved = min(
                        at + timedelta(hours=rng.randint(3, 240)), self.now - timedelta(minutes=5)
                    )
            author = self.manager_of[c.region] if rng.random() < 0.15 else c.owner
            self.add(
                Note(
                    id=_uuid7(rng, at),
                    customer_id=c.row.id,
                    author_id=author,
                    owner_id=c.owner,
                    region_id=c.region,
                    kind=kind,
                    body=rng.choice(text),
                    status=status,
                    resolved_at=resolved,
                    created_at=at,
                )
            )

    def _plan(self, c: _Customer) -> None:
        """Every customer has its next planned visit: last visit + the tier's interval."""
        rng = self.rng
        interval = pool.CADENCE[c.row.tier][0]
        source = "cadence"
        if c.row.stage == "lost":  # a win-back visit, planned by hand
            due, source = self.today + timedelta(days=rng.randint(7, 45)), "manual"
        elif c.visits:
            last = max(v.started_at for v in c.visits).astimezone(TZ).date()
            due = last + timedelta(days=interval)
        else:
            due = self.today + timedelta(days=rng.randint(-10, 21))
        created = c.visits[-1].ended_at if c.visits else c.row.created_at
        latest = max(c.visits, key=lambda v: (v.started_at, str(v.id))) if c.visits else None
        basis = basis_for(VisitFact(latest.id, latest.started_at) if latest else None)
        plan = PlannedRevisit(
            # the id the cadence engine gives this plan, so its first recompute keeps it
            id=plan_id(c.row.id, basis),
            customer_id=c.row.id,
            rep_id=c.owner,
            owner_id=c.owner,
            region_id=c.region,
            due_date=due,
            source=source,
            status="planned",
            created_at=created,
        )
        self.plans[c.row.id] = plan
        self.add(plan)

    def _today_plans(self, customers: list[_Customer]) -> None:
        """Give every rep a few visits due today, as a rep or manager moving a plan would,
        so the today screen is never empty in a demo."""
        plans = self.plans
        by_rep: dict[uuid.UUID, list[_Customer]] = defaultdict(list)
        for c in customers:
            if not c.row.archived and c.row.stage != "lost":
                by_rep[c.owner].append(c)
        for mine in by_rep.values():
            due_today = [c for c in mine if plans[c.row.id].due_date == self.today]
            later = [c for c in mine if plans[c.row.id].due_date > self.today]
            for c in self.rng.sample(later, max(0, min(len(later), 3 - len(due_today)))):
                plan = plans[c.row.id]
                plan.due_date = self.today
                plan.source = "manual"


def build_demo(now: datetime, password_hash: str, seed: int = SEED) -> DemoData:
    """All demo rows for ``now`` (aware), every user sharing ``password_hash``."""
    builder = _Builder(now, password_hash, seed)
    regions = builder.organisation()
    builder.reference()
    customers = builder.customers(regions)
    for c in customers:
        builder.add(c.row)
    builder.history(customers)
    return DemoData(rows=dict(builder.rows), logins=builder.logins)


# --- loading ------------------------------------------------------------------------------


async def _existing(now: datetime | None = None) -> DemoOutcome | None:
    """Why not to load: demo data already there, or a database someone is using."""
    marker = (
        await ServerSetting.select(ServerSetting.value)
        .where(ServerSetting.key == MARKER_KEY)
        .first()
    )
    if marker is not None:
        return DemoOutcome(
            "already_loaded", f"demo data already loaded ({marker['value']}); nothing added"
        )
    users = await User.count()
    customers = await Customer.count()
    if users or customers:
        return DemoOutcome(
            "not_empty",
            f"the database already holds {users} users and {customers} customers; "
            "demo data is only loaded into an empty database",
        )
    return None


async def _insert(table: type[Table], rows: Sequence[Table]) -> None:
    """Bulk insert, chunked below PostgreSQL's bind-parameter limit."""
    size = max(1, MAX_BIND_PARAMS // len(table._meta.columns))
    for start in range(0, len(rows), size):
        await table.insert(*rows[start : start + size])


def _configured_for(settings: Settings) -> bool:
    from piccolo.engine.sqlite import SQLiteEngine

    from server import db

    try:
        current = db.engine()
    except Exception:
        return False
    if current is None:
        return False
    if settings.is_postgres:
        from server.db import postgres_config

        config = getattr(current, "config", None)
        return current.engine_type == "postgres" and config == postgres_config(
            settings.database_url
        )
    return isinstance(current, SQLiteEngine) and current.path == str(settings.sqlite_path)


async def load_demo(
    settings: Settings, *, quiet: bool = True, now: datetime | None = None, seed: int = SEED
) -> DemoOutcome:
    """Fill an empty, migrated database with demo data (idempotent)."""
    from server import db
    from server.auth.passwords import hash_password

    if not _configured_for(settings):
        db.configure_database(settings)
    now = now or datetime.now(UTC)
    outcome = await _existing()
    if outcome is None:
        data = build_demo(now, hash_password(DEMO_PASSWORD), seed)
        try:
            outcome = await _write(data, now)
        except Exception as exc:
            # PostgreSQL: a concurrent loader committed the marker first.
            if "unique" not in str(exc).lower() and "duplicate" not in str(exc).lower():
                raise
            outcome = await _existing()
            if outcome is None:
                raise
    if outcome.status == "already_loaded":
        outcome = DemoOutcome(outcome.status, outcome.message, tuple(demo_logins()))
    if not quiet:
        print_outcome(outcome)
    return outcome


async def _write(data: DemoData, now: datetime) -> DemoOutcome:
    """One transaction: the marker first (so a second loader waits or fails), then rows."""
    from server import db
    from server.sync.service import finalize_bulk_load

    async with db.write_transaction():
        outcome = await _existing()  # another process may have won the race
        if outcome is not None:
            return outcome
        marker = ServerSetting(key=MARKER_KEY, value=now.isoformat(timespec="seconds"))
        await ServerSetting.insert(marker)
        for table in TABLE_ORDER:
            await _insert(table, data.rows.get(table, []))
        # The sync engine gives the rows versions, field clocks and bucket checksums
        # (docs/architecture.md, "Write path"), so devices receive them and verify.
        await finalize_bulk_load([t._meta.tablename for t in TABLE_ORDER])
    counts = data.counts()
    return DemoOutcome(
        "loaded",
        "demo data loaded: " + ", ".join(f"{n} {t}" for t, n in counts.items()),
        tuple(data.logins),
        counts,
    )


def demo_logins() -> list[DemoLogin]:
    """The logins of the demo organisation (deterministic, no database needed)."""
    builder = _Builder(datetime(2026, 1, 1, tzinfo=UTC), "", SEED)
    builder.organisation()
    return builder.logins


def print_outcome(outcome: DemoOutcome) -> None:
    print(outcome.message, flush=True)
    if outcome.logins:
        print(format_logins(outcome.logins), flush=True)


def format_logins(logins: Sequence[DemoLogin]) -> str:
    width = max(len(login.username) for login in logins)
    region_width = max(_display_width(login.region or "all regions") for login in logins)
    lines = [f"Demo logins (password for all: {logins[0].password}):"]
    for login in logins:
        region = login.region or "all regions"
        pad = " " * (region_width - _display_width(region))
        lines.append(
            f"  {login.username:<{width}}  {login.role:<7}  {region}{pad}  {login.display_name}"
        )
    return "\n".join(lines)


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

"""The synced tables as pure data: fields, wire types, who may create and put (R-SCHEMA-*).

Validation turns a client's JSON into the canonical wire form (R-SCHEMA-1) or raises
``FieldError`` naming the field, so the engine can reject with ``validation``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from sync.actor import Role

Kind = Literal["uuid", "str", "int", "float", "bool", "decimal", "date", "datetime", "json"]
BucketKind = Literal["customer", "rep", "region", "global"]

ALL_ROLES: frozenset[Role] = frozenset({"rep", "manager", "admin"})
STAFF: frozenset[Role] = frozenset({"manager", "admin"})
ADMIN: frozenset[Role] = frozenset({"admin"})
NOBODY: frozenset[Role] = frozenset()


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


class _Now:
    def __repr__(self) -> str:
        return "NOW"


REQUIRED: Any = _Required()
NOW: Any = _Now()  # default: the server's time of the create


class FieldError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def _str(max_len: int, min_len: int = 0) -> Any:
    return Annotated[str, msgspec.Meta(min_length=min_len, max_length=max_len)]


def _enum(*values: str) -> Any:
    return Literal[values]


def _int(ge: int, le: int) -> Any:
    return Annotated[int, msgspec.Meta(ge=ge, le=le)]


def _float(ge: float, le: float) -> Any:
    return Annotated[float, msgspec.Meta(ge=ge, le=le)]


AwareDatetime = Annotated[dt.datetime, msgspec.Meta(tz=True)]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
TagStr = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Tags = Annotated[list[TagStr], msgspec.Meta(max_length=50)]
CENTS = Decimal("0.01")
DECIMAL_MAX = Decimal("1000000000000")  # exclusive: the columns are numeric(14, 2)
UNIT_MAX = Decimal("10000000000")  # exclusive: unit values and caps are numeric(12, 2)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    type: Any  # the msgspec-checkable annotation of a client-supplied value
    default: Any = REQUIRED
    put_roles: frozenset[Role] = NOBODY  # who may change it by put (R-SCHEMA-3)
    server_set: bool = False  # ignored in a create row (R-SCHEMA-5)
    nullable: bool = False
    min_value: Decimal | None = None  # decimals only
    max_value: Decimal = DECIMAL_MAX  # decimals only, exclusive (the column's digits)
    implies: tuple[tuple[str, Any], ...] = ()  # other fields a put of this one also writes (R-PUT-6)

    @property
    def mutable(self) -> bool:
        return bool(self.put_roles)


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    bucket: BucketKind
    fields: Mapping[str, Field]
    create_roles: frozenset[Role]
    customer_ref: bool  # rows name a customer_id and inherit its owner/region (R-CREATE-2)
    down_only: bool = False  # never written through sync (users)
    hidden: frozenset[str] = field(default_factory=frozenset)  # columns never sent
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)  # the fields' names, in order
    clock_fields: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """Fields that are registers with a clock (R-MERGE-1): the mutable ones and ``deleted``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.fields))
        object.__setattr__(
            self, "clock_fields", tuple(n for n, f in self.fields.items() if f.mutable or n == "deleted")
        )

    def field(self, name: str) -> Field:
        return self.fields[name]


def _f(name: str, kind: Kind, typ: Any, **kw: Any) -> Field:
    nullable = kw.get("nullable", False)
    return Field(name, kind, typ | None if nullable else typ, **kw)


def _meta(*, owner: bool = True) -> list[Field]:
    """Sync metadata every synced table carries (R-SCHEMA-2)."""
    out = [
        _f("seq", "int", int, default=0, server_set=True),
        _f("clocks", "json", dict[str, str], default=None, server_set=True),
    ]
    if owner:
        out += [
            _f("owner_id", "uuid", UUID, default=None, server_set=True, nullable=True),
            _f("region_id", "uuid", UUID, default=None, server_set=True, nullable=True),
        ]
    return out


def _deleted(put_roles: frozenset[Role] = ALL_ROLES) -> Field:
    return _f("deleted", "bool", bool, default=False, put_roles=put_roles)


def _table(
    name: str,
    bucket: BucketKind,
    fields: list[Field],
    create_roles: frozenset[Role],
    *,
    customer_ref: bool = False,
    down_only: bool = False,
    hidden: frozenset[str] = frozenset(),
) -> TableSpec:
    by_name = {f.name: f for f in fields}
    assert "id" in by_name and "deleted" in by_name and "seq" in by_name
    return TableSpec(name, bucket, by_name, create_roles, customer_ref, down_only, hidden)


_ID = _f("id", "uuid", UUID)
_CUSTOMER_ID = _f("customer_id", "uuid", UUID)
_CREATED = _f("created_at", "datetime", AwareDatetime, default=NOW)

STAGES = _enum("prospect", "contacted", "active", "key", "at_risk", "lost")
TIERS = _enum("A", "B", "C")

CUSTOMERS = _table(
    "customers",
    "customer",
    [
        _ID,
        _f("name", "str", _str(200, 1), put_roles=ALL_ROLES),
        _f("kind", "str", _enum("consumer", "business", "channel", "internal"), default="business", put_roles=ALL_ROLES),
        _f("tier", "str", TIERS, default="C", put_roles=ALL_ROLES),
        _f("key_account", "bool", bool, default=False, put_roles=ALL_ROLES),
        _f("stage", "str", STAGES, default="prospect", put_roles=ALL_ROLES),
        _f("address", "str", _str(500), default="", put_roles=ALL_ROLES),
        _f("latitude", "float", _float(-90, 90), default=None, nullable=True, put_roles=ALL_ROLES),
        _f("longitude", "float", _float(-180, 180), default=None, nullable=True, put_roles=ALL_ROLES),
        _f("phone", "str", _str(40), default="", put_roles=ALL_ROLES),
        _f("tags", "json", Tags, default=[], put_roles=ALL_ROLES),
        _f("preferences", "str", _str(4000), default="", put_roles=ALL_ROLES),
        _f("external_id", "str", _str(80, 1), default=None, nullable=True, put_roles=ALL_ROLES),
        _f("archived", "bool", bool, default=False, put_roles=ALL_ROLES),
        _CREATED,
        _f("deleted", "bool", bool, default=False),  # R-DEL-1: customers are archived
        *_meta(),
    ],
    ALL_ROLES,
)

CONTACTS = _table(
    "contacts",
    "customer",
    [
        _ID,
        _CUSTOMER_ID,
        _f("name", "str", _str(120, 1), put_roles=ALL_ROLES),
        _f("title", "str", _str(120), default="", put_roles=ALL_ROLES),
        _f("phone", "str", _str(40), default="", put_roles=ALL_ROLES),
        _f("email", "str", _str(200), default="", put_roles=ALL_ROLES),
        _CREATED,
        _deleted(),
        *_meta(),
    ],
    ALL_ROLES,
    customer_ref=True,
)

VISITS = _table(
    "visits",
    "customer",
    [
        _ID,
        _CUSTOMER_ID,
        _f("rep_id", "uuid", UUID, default=None, server_set=True, nullable=True),
        _f("planned_for", "date", dt.date, default=None, nullable=True),
        _f("started_at", "datetime", AwareDatetime),
        _f("ended_at", "datetime", AwareDatetime, default=None, nullable=True),
        _f("latitude", "float", _float(-90, 90), default=None, nullable=True),
        _f("longitude", "float", _float(-180, 180), default=None, nullable=True),
        _f("accuracy", "float", _float(0, 1e7), default=None, nullable=True),
        _f("purpose", "str", _str(32, 1), default="routine"),
        _f("outcome", "str", _str(4000), default=""),
        _f("satisfaction", "int", _int(1, 5), default=None, nullable=True),
        _f("order_value", "decimal", Decimal, default="0.00", min_value=Decimal(0)),
        _f("currency", "str", Currency, default="CNY"),
        _f("notes", "str", _str(10000), default=""),
        _CREATED,
        _deleted(),
        *_meta(),
    ],
    ALL_ROLES,
    customer_ref=True,
)

GIFTS = _table(
    "gifts",
    "customer",
    [
        _ID,
        _CUSTOMER_ID,
        _f("visit_id", "uuid", UUID, default=None, nullable=True),
        _f("rep_id", "uuid", UUID, default=None, server_set=True, nullable=True),
        _f("item_id", "uuid", UUID),
        _f("quantity", "int", _int(1, 10000), default=1),
        _f("unit_value", "decimal", Decimal, default=None, nullable=True, min_value=Decimal(0), max_value=UNIT_MAX),
        _f("currency", "str", Currency, default="CNY"),
        _f("given_at", "datetime", AwareDatetime, default=NOW),
        _f("over_cap", "bool", bool, default=False, server_set=True),
        _f("review_status", "str", _enum("none", "pending", "approved"), default="none", server_set=True, put_roles=STAFF),
        _f("review_comment", "str", _str(2000), default="", put_roles=STAFF),
        _deleted(),
        *_meta(),
    ],
    ALL_ROLES,
    customer_ref=True,
)

NOTES = _table(
    "notes",
    "customer",
    [
        _ID,
        _CUSTOMER_ID,
        _f("author_id", "uuid", UUID, default=None, server_set=True, nullable=True),
        _f("kind", "str", _enum("note", "complaint", "feedback"), default="note"),
        _f("body", "str", _str(10000, 1)),
        _f("status", "str", _enum("open", "resolved"), default=None, nullable=True, put_roles=ALL_ROLES),
        _f("resolved_at", "datetime", AwareDatetime, default=None, nullable=True, put_roles=ALL_ROLES),
        _CREATED,
        _deleted(),
        *_meta(),
    ],
    ALL_ROLES,
    customer_ref=True,
)

PLANNED_REVISITS = _table(
    "planned_revisits",
    "customer",
    [
        _ID,
        _CUSTOMER_ID,
        _f("rep_id", "uuid", UUID, default=None, nullable=True),
        _f("due_date", "date", dt.date, put_roles=ALL_ROLES, implies=(("source", "manual"),)),
        _f("source", "str", _enum("cadence", "manual"), default="manual", put_roles=ALL_ROLES),
        _f("status", "str", _enum("planned", "done", "skipped", "cancelled"), default="planned", put_roles=ALL_ROLES),
        _CREATED,
        _deleted(),
        *_meta(),
    ],
    ALL_ROLES,
    customer_ref=True,
)

STOCK_MOVEMENTS = _table(
    "stock_movements",
    "rep",
    [
        _ID,
        _f("rep_id", "uuid", UUID, default=None, nullable=True),
        _f("item_id", "uuid", UUID),
        _f("delta", "int", _int(-100000, 100000)),
        _f("reason", "str", _enum("adjust", "gift", "restock"), default="gift"),
        _CREATED,
        _deleted(STAFF),
        *_meta(),
    ],
    frozenset({"rep"}),
)

CONFLICTS = _table(
    "conflicts",
    "customer",
    [
        _ID,
        _f("tbl", "str", _str(32, 1), server_set=True),
        _f("row_id", "uuid", UUID, server_set=True),
        _f("field", "str", _str(64, 1), server_set=True),
        _f("losing_value", "json", Any, default=None, server_set=True),
        _f("losing_clock", "str", _str(64, 1), server_set=True),
        _f("losing_author", "uuid", UUID, default=None, nullable=True, server_set=True),
        _f("winning_value", "json", Any, default=None, server_set=True),
        _f("winning_clock", "str", _str(64, 1), server_set=True),
        _f("customer_id", "uuid", UUID, default=None, nullable=True, server_set=True),
        _f("status", "str", _enum("open", "restored", "dismissed"), default="open", put_roles=ALL_ROLES),
        _CREATED,
        _deleted(NOBODY),
        *_meta(),
    ],
    NOBODY,
)

REGIONS = _table(
    "regions",
    "global",
    [
        _ID,
        _f("name", "str", _str(120, 1), put_roles=ADMIN),
        _f("time_zone", "str", _str(64, 1), default="Asia/Shanghai", put_roles=ADMIN),
        _deleted(ADMIN),
        *_meta(owner=False),
    ],
    ADMIN,
)

GIFT_ITEMS = _table(
    "gift_items",
    "global",
    [
        _ID,
        _f("name_en", "str", _str(120, 1), put_roles=ADMIN),
        _f("name_zh", "str", _str(120, 1), put_roles=ADMIN),
        _f("unit_value", "decimal", Decimal, put_roles=ADMIN, min_value=Decimal(0), max_value=UNIT_MAX),
        _f("currency", "str", Currency, default="CNY", put_roles=ADMIN),
        _f("yearly_cap", "decimal", Decimal, put_roles=ADMIN, min_value=Decimal(0), max_value=UNIT_MAX),
        _f("active", "bool", bool, default=True, put_roles=ADMIN),
        _deleted(ADMIN),
        *_meta(owner=False),
    ],
    ADMIN,
)

CADENCE_RULES = _table(
    "cadence_rules",
    "global",
    [
        _ID,
        _f("tier", "str", TIERS, put_roles=ADMIN),
        _f("region_id", "uuid", UUID, default=None, nullable=True, put_roles=ADMIN),
        _f("stage", "str", STAGES, default=None, nullable=True, put_roles=ADMIN),
        _f("interval_days", "int", _int(1, 3650), put_roles=ADMIN),
        _f("reminder_lead_days", "int", _int(0, 365), default=1, put_roles=ADMIN),
        _deleted(ADMIN),
        _f("seq", "int", int, default=0, server_set=True),
        _f("clocks", "json", dict[str, str], default=None, server_set=True),
    ],
    ADMIN,
)

USERS = _table(
    "users",
    "region",
    [
        _ID,
        _f("username", "str", _str(64, 1)),
        _f("display_name", "str", _str(120), default=""),
        _f("role", "str", _enum("rep", "manager", "admin")),
        _f("region_id", "uuid", UUID, default=None, nullable=True),
        _f("locale", "str", _str(8), default="en"),
        _f("time_zone", "str", _str(64), default="Asia/Shanghai"),
        _f("quiet_start", "str", _str(5), default="21:00"),
        _f("quiet_end", "str", _str(5), default="08:00"),
        _f("active", "bool", bool, default=True),
        _CREATED,
        _deleted(NOBODY),
        _f("seq", "int", int, default=0, server_set=True),
        _f("clocks", "json", dict[str, str], default=None, server_set=True),
    ],
    NOBODY,
    down_only=True,
    hidden=frozenset({"password_hash", "token_version"}),
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        REGIONS,
        GIFT_ITEMS,
        CADENCE_RULES,
        USERS,
        CUSTOMERS,
        CONTACTS,
        VISITS,
        GIFTS,
        NOTES,
        PLANNED_REVISITS,
        STOCK_MOVEMENTS,
        CONFLICTS,
    )
}
CUSTOMER_DATA = tuple(t.name for t in TABLES.values() if t.bucket in ("customer", "rep"))
CUSTOMER_CHILDREN = (*(t.name for t in TABLES.values() if t.customer_ref), "conflicts")
GLOBAL_TABLES = tuple(t.name for t in TABLES.values() if t.bucket == "global")
META_FIELDS = frozenset({"id", "seq", "clocks", "owner_id", "region_id"})


# --- validation and canonical wire form (R-SCHEMA-1) -----------------------------------


def _canonical_decimal(f: Field, value: Decimal) -> str:
    try:
        if not value.is_finite():
            raise FieldError(f.name, "must be a finite number")
        q = value.quantize(CENTS)
        if q.is_zero():
            q = q.copy_abs()  # "-0.00" is "0.00", as the databases store it
    except InvalidOperation as exc:
        raise FieldError(f.name, "is not a valid amount") from exc
    if f.min_value is not None and q < f.min_value:
        raise FieldError(f.name, f"must be >= {f.min_value}")
    if abs(q) >= f.max_value:
        raise FieldError(f.name, f"must be less than {f.max_value}")
    return str(q)


def to_wire(f: Field, value: Any) -> Any:
    """Convert a Python or JSON value of field ``f`` to its canonical wire form."""
    try:
        converted = msgspec.convert(value, f.type)
    except msgspec.ValidationError as exc:
        raise FieldError(f.name, str(exc)) from None
    return _wire_of(f, converted)


def _wire_of(f: Field, converted: Any) -> Any:
    """``to_wire`` of a value already converted to ``f.type``."""
    if converted is None:
        return None
    match f.kind:
        case "uuid":
            return str(converted)
        case "datetime":
            return msgspec.to_builtins(converted.astimezone(dt.UTC))
        case "date":
            return converted.isoformat()
        case "decimal":
            return _canonical_decimal(f, converted)
        case "json":
            return msgspec.to_builtins(converted)
        case "float":
            return converted + 0.0  # -0.0 is 0.0, as the databases store it
        case "str" if "\x00" in converted:
            raise FieldError(f.name, "must not contain the NUL character (U+0000)")
        case _:
            return converted


def default_of(f: Field, now: dt.datetime) -> Any:
    if f.default is NOW:
        return msgspec.to_builtins(now.astimezone(dt.UTC))
    if f.default is REQUIRED:
        raise FieldError(f.name, "is required")
    if isinstance(f.default, list | dict):
        return type(f.default)(f.default)
    return f.default


class _CreateForm:
    """How ``validate_create`` fills a table's row: the server-set fields' defaults and one
    msgspec type for the client's fields, converted in one call (each field's own
    ``msgspec.convert`` was most of a create's validation)."""

    def __init__(self, spec: TableSpec) -> None:
        self.server_set = tuple(
            f for name, f in spec.fields.items() if name != "id" and (f.server_set or name == "deleted")
        )
        self.client = tuple(
            f for name, f in spec.fields.items() if name != "id" and not (f.server_set or name == "deleted")
        )
        self.type = msgspec.defstruct(
            f"{spec.name}_create",
            [(f.name, f.type | msgspec.UnsetType, msgspec.UNSET) for f in self.client],
        )


_FORMS: dict[str, _CreateForm] = {}


def validate_create(spec: TableSpec, row_id: str, row: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A complete canonical row from a client's create (server-set fields left at default)."""
    unknown = sorted(k for k in row if k not in spec.fields and k not in spec.hidden)
    if unknown:
        raise FieldError(unknown[0], "unknown field")
    form = _FORMS.get(spec.name)
    if form is None:
        form = _FORMS[spec.name] = _CreateForm(spec)
    try:
        given = msgspec.convert(row, form.type)
    except msgspec.ValidationError:
        given = None  # the field that fails is named below, as ``to_wire`` names it
    out: dict[str, Any] = dict.fromkeys(spec.names)
    out["id"] = row_id
    for f in form.server_set:
        out[f.name] = None if f.default is REQUIRED else default_of(f, now)
    for f in form.client:
        value = msgspec.UNSET if given is None else getattr(given, f.name)
        if value is not msgspec.UNSET:
            out[f.name] = _wire_of(f, value)
        elif f.name in row:
            out[f.name] = to_wire(f, row[f.name])
        else:
            out[f.name] = default_of(f, now)  # raises "is required"
    out["deleted"] = False
    out["seq"] = 0
    out["clocks"] = {}
    return out


def validate_put_value(spec: TableSpec, name: str, value: Any) -> Any:
    f = spec.fields.get(name)
    if f is None:
        raise FieldError(name, "unknown field")
    return to_wire(f, value)


def public_row(spec: TableSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as pulled: every schema field in schema order, nothing else (R-PULL-2).

    A row that already is exactly that (a ``dict`` with the schema's fields in their
    order, as stores read them) is returned itself, not copied: comparing its keys costs
    a fifth of building the copy, and a pull does it for every row it sends. So the
    result may be ``row``; callers hand over rows they own (``ReadTx`` returns new ones).
    """
    if type(row) is dict and tuple(row) == spec.names:
        return row
    return {name: row.get(name) for name in spec.names}


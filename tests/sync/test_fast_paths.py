"""The fast forms of two per-row functions give what their plain definitions give.

``checksum.row_hash`` starts from the row's kept prefix state (``fnv1a64`` itself is checked
against the published FNV-1a vectors); ``schema.validate_create`` converts a create's
fields in one msgspec call. Each is checked here against the straightforward definition,
on any input hypothesis finds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from sync import checksum
from sync.schema import REQUIRED, TABLES, FieldError, default_of, to_wire, validate_create


def test_fnv_gives_the_published_fnv1a_64_values() -> None:
    assert checksum.fnv1a64(b"") == 0xCBF29CE484222325
    assert checksum.fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    assert checksum.fnv1a64(b"foobar") == 0x85944171F73967E8
    assert checksum.fnv1a64(b"bar", checksum.fnv1a64(b"foo")) == checksum.fnv1a64(b"foobar")  # continues a state


@given(st.sampled_from(sorted(TABLES)), st.text(max_size=50), st.integers(min_value=0, max_value=2**63))
def test_row_hash_is_the_hash_of_the_whole_text(table: str, row_id: str, seq: int) -> None:
    assert checksum.row_hash(table, row_id, seq) == checksum.fnv1a64(f"{table}:{row_id}:{seq}".encode())
    assert checksum.row_hash(table, row_id, seq + 1) == checksum.fnv1a64(f"{table}:{row_id}:{seq + 1}".encode())


def test_row_hash_stays_right_when_its_kept_states_start_over() -> None:
    rows = [("visits", f"row-{i}") for i in range(checksum.ROWS_MAX + 10)]
    for seq, (table, row_id) in enumerate(rows):
        assert checksum.row_hash(table, row_id, seq) == checksum.fnv1a64(f"{table}:{row_id}:{seq}".encode())
        assert len(checksum._ROWS) <= checksum.ROWS_MAX
    # the first rows were forgotten when the kept states started over, the last ones not
    for table, row_id in (rows[0], rows[-1]):
        assert checksum.row_hash(table, row_id, 7) == checksum.fnv1a64(f"{table}:{row_id}:7".encode())
    # the same id in another table is another row
    assert checksum.row_hash("customers", "row-1", 7) == checksum.fnv1a64(b"customers:row-1:7")


def _create_by_field(table: str, row_id: str, row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """``validate_create`` as defined: field by field, in schema order."""
    spec = TABLES[table]
    unknown = sorted(k for k in row if k not in spec.fields and k not in spec.hidden)
    if unknown:
        raise FieldError(unknown[0], "unknown field")
    out: dict[str, Any] = {"id": row_id}
    for name, f in spec.fields.items():
        if name == "id":
            continue
        if f.server_set or name == "deleted":
            out[name] = None if f.default is REQUIRED else default_of(f, now)
        elif name in row:
            out[name] = to_wire(f, row[name])
        else:
            out[name] = default_of(f, now)
    out.update(deleted=False, seq=0, clocks={})
    return out


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from([
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190A1B2C3D47E5F8A9B0C1D2E3F4A5B", "2026-11-27T08:30:00Z",
        "2026-11-27T08:30:00+08:00", "2026-11-27", "12.5", "-0.00", "1e3", "visit", "order", "CNY", "a\x00b",
        "planned", "complaint", "walk_in", "prospect",
    ]),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
_VALID = {  # a valid create of each table (most random rows fail somewhere)
    "customers": {"name": "顾客 ACME", "tags": ["a", "b"], "latitude": 31.2, "tier": "A"},
    "visits": {"customer_id": _ID, "started_at": "2026-11-25T08:00:00+08:00", "order_value": "12.5",
               "satisfaction": 4, "notes": "拜访"},
    "gifts": {"customer_id": _ID, "item_id": _ID, "quantity": 2, "unit_value": "30", "given_at": "2026-03-01T00:00:00Z"},
    "notes": {"customer_id": _ID, "body": "hello"},
    "planned_revisits": {"customer_id": _ID, "due_date": "2026-11-20"},
    "stock_movements": {"item_id": _ID, "delta": 5},
    "gift_items": {"name_en": "Tea", "name_zh": "茶", "unit_value": "40", "yearly_cap": "100"},
    "contacts": {"customer_id": _ID, "name": "Li"},
}


@st.composite
def _creates(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    table = draw(st.sampled_from(sorted(TABLES)))
    row = dict(_VALID.get(table, {})) if draw(st.booleans()) else {}
    names = [*sorted(TABLES[table].fields), "not_a_field"]
    keys = draw(st.lists(st.sampled_from(names), unique=True, max_size=1 if row else len(names)))
    return table, {**row, **{k: draw(_VALUES) for k in keys}}


@settings(max_examples=500)
@given(_creates())
def test_validate_create_gives_what_field_by_field_gives(create: tuple[str, dict[str, Any]]) -> None:
    table, row = create
    now = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    expected: Any
    try:
        expected = _create_by_field(table, _ID, row, now)
    except FieldError as exc:
        expected = ("FieldError", str(exc))
    try:
        got: Any = validate_create(TABLES[table], _ID, row, now)
    except FieldError as exc:
        got = ("FieldError", str(exc))
    assert got == expected
    event("valid" if isinstance(got, dict) else "rejected")
    if isinstance(got, dict):
        assert list(got) == list(expected)  # the same order of fields too

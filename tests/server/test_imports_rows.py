"""Import row checks and CSV cell escaping as pure functions (no database)."""

from __future__ import annotations

from uuid import uuid4

from server.imports.csvfile import decode, encode, read_rows, safe_cell, unsafe_cell
from server.imports.rows import Rep, check_header, check_row

NORTH = uuid4()
REPS = {"rob": Rep(uuid4(), NORTH)}
REGIONS = {"North": NORTH, "South": uuid4()}


def test_formula_cells_round_trip() -> None:
    for text in ("=SUM(A1)", "+86 139", "-5", "@x", "plain", "'quoted"):
        assert unsafe_cell(safe_cell(text)) == text
    assert safe_cell("+86 139") == "'+86 139"
    assert safe_cell(-5) == "-5"  # numbers stay numbers
    assert safe_cell(None) == "" and safe_cell(True) == "true"


def test_encode_decode_read() -> None:
    data = encode(["name"], [["华联"], ["=1+1"]])
    assert data.startswith(b"\xef\xbb\xbf")
    text, encoding = decode(data)
    assert encoding == "utf-8-sig"
    header, rows = read_rows(text)
    assert header == ["name"] and rows == [["华联"], ["'=1+1"]]
    assert decode("名称".encode("gbk")) == ("名称", "gbk")
    assert decode("名称".encode()) == ("名称", "utf-8")


def test_header_checks() -> None:
    missing, ignored = check_header(["name", "tier", "colour", "id", "name"])
    assert ("external_id", "required column is missing") in missing
    assert ("name", "column appears twice") in missing
    assert ignored == ["colour"]  # export-only columns (id) are not reported


def test_row_defaults_and_owner_region() -> None:
    ok = check_row(
        {"external_id": "X", "name": "n", "tier": "a", "owner_username": "rob"}, REPS, REGIONS
    )
    assert ok.issues == [] and ok.parsed is not None
    assert ok.parsed.owner_id == REPS["rob"].id and ok.parsed.region_id == NORTH
    assert ok.parsed.values["tier"] == "A" and ok.parsed.values["stage"] == "prospect"
    clash = check_row(
        {"external_id": "X", "name": "n", "tier": "A", "owner_username": "rob", "region": "South"},
        REPS,
        REGIONS,
    )
    assert clash.issues == [("region", "differs from the owner's region")]
    half = check_row(
        {"external_id": "X", "name": "n", "tier": "A", "latitude": "31"}, REPS, REGIONS
    )
    assert half.issues == [("longitude", "give both or neither")]
    bad = check_row(
        {"external_id": "X", "name": "n", "tier": "A", "key_account": "maybe", "stage": "won"},
        REPS,
        REGIONS,
    )
    assert {c for c, _ in bad.issues} == {"key_account", "stage"}

"""Writes sync/vectors/*.json from hand-picked inputs; ``test_vectors`` checks they are current.

Run: ``.venv/bin/python -m tests.sync.make_vectors``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sync import checksum
from sync.hlc import Hlc, receive, stamp
from sync.resolvers import RESOLVERS_BY_NAME

VECTORS = Path(__file__).resolve().parents[2] / "sync" / "vectors"

A = "0192f0a1-77aa-7c1e-9b1e-1234567890ab"
B = "devB_01"


def hlc_cases() -> dict[str, Any]:
    order = [
        ("000000000001-0000-a", "000000000002-0000-a"),
        ("000000000001-0001-a", "000000000001-0000-z"),
        ("000000000001-0000-a", "000000000001-0000-b"),
        ("019a8b2c3d4e-0000-server", "019a8b2c3d4e-0000-" + A),
        ("019a8b2c3d4e-ffff-x", "019a8b2c3d4f-0000-x"),
        ("019a8b2c3d4e-0001-abc", "019a8b2c3d4e-0001-abc"),
        ("019a8b2c3d4e-0001-ab", "019a8b2c3d4e-0001-abc"),
        ("019a8b2c3d4e-0001-Z", "019a8b2c3d4e-0001-a"),
    ]
    cases_order = []
    for a, b in order:
        pa, pb = Hlc.parse(a), Hlc.parse(b)
        cmp = (pa > pb) - (pa < pb)
        assert cmp == (a > b) - (a < b)
        cases_order.append({"a": a, "b": b, "cmp": cmp})
    stamps = [
        ("000000000000-0000-" + B, 1_700_000_000_000),
        ("018bcfe56800-0005-" + B, 1_700_000_000_000),  # wall equal to physical
        ("018bcfe56800-0005-" + B, 1_600_000_000_000),  # wall behind
        ("018bcfe56800-ffff-" + B, 1_700_000_000_000),  # counter overflow (R-HLC-5)
        ("018bcfe56800-0005-" + B, 1_700_000_000_001),
    ]
    cases_stamp = [{"local": loc, "now": now, "expect": str(stamp(Hlc.parse(loc), now))} for loc, now in stamps]
    recv = [
        ("018bcfe56800-0005-" + B, "018bcfe56800-0009-server", 1_700_000_000_000),
        ("018bcfe56800-0005-" + B, "018bcfe56800-0002-server", 1_600_000_000_000),
        ("018bcfe56800-0005-" + B, "018bcfe56801-0002-server", 1_600_000_000_000),
        ("018bcfe56801-0005-" + B, "018bcfe56800-0002-server", 1_600_000_000_000),
        ("018bcfe56800-0005-" + B, "018bcfe56800-0002-server", 1_800_000_000_000),
        ("018bcfe56800-fffe-" + B, "018bcfe56800-ffff-server", 1_000),
    ]
    cases_recv = [
        {"local": loc, "remote": rem, "now": now, "expect": str(receive(Hlc.parse(loc), Hlc.parse(rem), now))}
        for loc, rem, now in recv
    ]
    invalid = ["", "018bcfe56800-0005", "018BCFE56800-0005-a", "18bcfe56800-0005-a", "018bcfe56800-05-a",
               "018bcfe56800-0005-", "018bcfe56800-0005-has space", "018bcfe56800-0005-" + "x" * 41]
    return {
        "about": "HLC vectors (docs/sync-protocol.md R-HLC-1..5). order: cmp = sign(a vs b), equal to string "
                 "comparison. stamp: R-HLC-3. receive: R-HLC-4. parse_invalid: strings that are not clocks.",
        "order": cases_order,
        "stamp": cases_stamp,
        "receive": cases_recv,
        "parse_invalid": invalid,
    }


def merge_cases() -> dict[str, Any]:
    c1, c2, c3 = "018bcfe56800-0000-a", "018bcfe56800-0001-a", "018bcfe56800-0001-b"
    inputs = [
        ("lww", ["x", c1], ["y", c2]),
        ("lww", ["x", c2], ["y", c3]),
        ("lww", [None, c1], ["y", c1.replace("-a", "-b")]),
        ("lww", [{"k": [1, 2]}, c3], ["z", c2]),
        ("lww", ["same", c2], ["same", c2]),
        ("lww", ["b", c2], ["a", c2]),  # equal clocks: canonical JSON tie-break
        ("sticky_true", [True, c1], [False, c2]),
        ("sticky_true", [False, c3], [True, c1]),
        ("sticky_true", [True, c1], [True, c2]),
        ("sticky_true", [False, c1], [False, c2]),
    ]
    cases = []
    for name, a, b in inputs:
        fn = RESOLVERS_BY_NAME[name]
        ab, ba = fn((a[0], a[1]), (b[0], b[1])), fn((b[0], b[1]), (a[0], a[1]))
        assert ab == ba
        cases.append({"resolver": name, "a": a, "b": b, "expect": list(ab)})
    return {
        "about": "Field merges (R-MERGE-2): merge(a, b) and merge(b, a) both equal expect. Registers are "
                 "[value, clock]. Resolver per (table, field) is in sync/resolvers.py (deleted: sticky_true, "
                 "everything else lww).",
        "cases": cases,
    }


def conflict_cases() -> dict[str, Any]:
    from sync.resolvers import canonical_json, resolver_for

    c0, c1, c2 = "018bcfe56800-0000-server", "018bcfe56900-0000-devA_001", "018bcfe56a00-0000-devB_001"
    raw = [
        ("customers", "phone", ["111", c0], {"value": "222", "base": c0, "hlc": c1}),  # sequential
        ("customers", "phone", ["111", c1], {"value": "222", "base": c0, "hlc": c2}),  # concurrent, incoming wins
        ("customers", "phone", ["111", c2], {"value": "222", "base": c0, "hlc": c1}),  # concurrent, incoming loses
        ("customers", "phone", ["222", c1], {"value": "222", "base": c0, "hlc": c2}),  # concurrent, same value
        ("customers", "tier", ["A", c1], {"value": "B", "base": None, "hlc": c2}),  # never saw the field
        ("visits", "deleted", [True, c2], {"value": False, "base": c0, "hlc": "018bcfe56b00-0000-devA_001"}),
        ("contacts", "deleted", [False, c1], {"value": True, "base": c0, "hlc": c2}),
    ]
    cases = []
    for table, fieldname, current, write in raw:
        cur = (current[0], current[1])
        inc = (write["value"], write["hlc"])
        winner = resolver_for(table, fieldname)(cur, inc)
        conflict = None
        if write["base"] != current[1] and canonical_json(cur[0]) != canonical_json(inc[0]):
            loser = cur if winner is inc else inc
            conflict = {"losing_value": loser[0], "losing_clock": loser[1]}
        cases.append({"table": table, "field": fieldname, "current": current, "write": write,
                      "expect": {"value": winner[0], "clock": winner[1], "conflict": conflict}})
    return {
        "about": "Put conflict detection (R-PUT-3): the write is concurrent when base != the current clock; "
                 "the merged register is expect.value/clock; a conflict record keeps the losing register "
                 "when the two values differ (canonical JSON).",
        "cases": cases,
    }


def checksum_cases() -> dict[str, Any]:
    strings = ["", "a", "foobar", "customers:0192f0a1-77aa-7c1e-9b1e-1234567890ab:1",
               "visits:0192f0a1-77aa-7c1e-9b1e-1234567890ab:9007199254740993", "notes:顾客:12"]
    fnv = [{"input": s, "hash": f"{checksum.fnv1a64(s.encode()):016x}"} for s in strings]
    bucket_rows = [
        [],
        [["customers", A, 1]],
        [["customers", A, 1], ["visits", "0192f0a1-77aa-7c1e-9b1e-1234567890ac", 7]],
        [["customers", f"0192f0a1-77aa-7c1e-9b1e-{i:012x}", 1000 + i] for i in range(50)],
    ]
    buckets = []
    for rows in bucket_rows:
        count, total = checksum.bucket_sum((t, i, v) for t, i, v in rows)
        buckets.append({"rows": rows, "count": count, "sum": checksum.to_hex(total)})
    signed = [{"hex": h, "signed": checksum.to_signed(int(h, 16))}
              for h in ["0000000000000000", "7fffffffffffffff", "8000000000000000", "ffffffffffffffff",
                        "cbf29ce484222325"]]
    return {
        "about": "Checksums (R-SUM-1, R-SUM-2). fnv: FNV-1a 64 of the UTF-8 bytes of input, 16 hex digits. "
                 "bucket: count and sum mod 2^64 of h('<table>:<id>:<v>') over rows. signed: the database's "
                 "signed BIGINT view of an unsigned sum.",
        "fnv": fnv,
        "bucket": buckets,
        "signed": signed,
    }


def render() -> dict[str, str]:
    files = {"hlc.json": hlc_cases(), "merge.json": merge_cases(), "conflicts.json": conflict_cases(),
             "checksum.json": checksum_cases()}
    return {name: json.dumps(data, ensure_ascii=False, indent=1) + "\n" for name, data in files.items()}


def main() -> None:
    VECTORS.mkdir(exist_ok=True)
    for name, text in render().items():
        (VECTORS / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

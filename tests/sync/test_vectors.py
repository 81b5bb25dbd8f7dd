"""The shared JSON vectors (sync/vectors/*.json): current, and passed by the Python core."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync import checksum
from sync.hlc import Hlc, InvalidClock, receive, stamp
from sync.resolvers import RESOLVERS_BY_NAME, canonical_json, resolver_for
from tests.sync.make_vectors import VECTORS, render


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def test_vector_files_are_current() -> None:
    for name, text in render().items():
        assert (VECTORS / name).read_text(encoding="utf-8") == text, f"regenerate {name}"


def test_hlc_vectors() -> None:
    v = load("hlc.json")
    for c in v["order"]:
        a, b = Hlc.parse(c["a"]), Hlc.parse(c["b"])
        assert (a > b) - (a < b) == c["cmp"]
        assert (c["a"] > c["b"]) - (c["a"] < c["b"]) == c["cmp"]
    for c in v["stamp"]:
        assert str(stamp(Hlc.parse(c["local"]), c["now"])) == c["expect"]
    for c in v["receive"]:
        assert str(receive(Hlc.parse(c["local"]), Hlc.parse(c["remote"]), c["now"])) == c["expect"]
    for text in v["parse_invalid"]:
        with pytest.raises(InvalidClock):
            Hlc.parse(text)


def test_merge_vectors() -> None:
    for c in load("merge.json")["cases"]:
        fn = RESOLVERS_BY_NAME[c["resolver"]]
        a, b = tuple(c["a"]), tuple(c["b"])
        assert list(fn(a, b)) == c["expect"]  # type: ignore[arg-type]
        assert list(fn(b, a)) == c["expect"]  # type: ignore[arg-type]


def test_conflict_vectors() -> None:
    for c in load("conflicts.json")["cases"]:
        cur = tuple(c["current"])
        w = c["write"]
        inc = (w["value"], w["hlc"])
        winner = resolver_for(c["table"], c["field"])(cur, inc)  # type: ignore[arg-type]
        assert [winner[0], winner[1]] == [c["expect"]["value"], c["expect"]["clock"]]
        concurrent = w["base"] != cur[1] and canonical_json(cur[0]) != canonical_json(inc[0])
        assert concurrent == (c["expect"]["conflict"] is not None)


def test_checksum_vectors() -> None:
    v = load("checksum.json")
    for c in v["fnv"]:
        assert f"{checksum.fnv1a64(c['input'].encode()):016x}" == c["hash"]
    for c in v["bucket"]:
        count, total = checksum.bucket_sum(tuple(r) for r in c["rows"])
        assert (count, checksum.to_hex(total)) == (c["count"], c["sum"])
    for c in v["signed"]:
        assert checksum.to_signed(int(c["hex"], 16)) == c["signed"]
        assert checksum.to_hex(checksum.from_signed(c["signed"])) == c["hex"]

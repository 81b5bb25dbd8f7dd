"""Hypothesis properties of the merge rules and the hybrid logical clock (R-MERGE-2, R-HLC-*)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync import checksum
from sync.hlc import MAX_PHYSICAL, Clock, Hlc, receive, stamp
from sync.resolvers import RESOLVERS_BY_NAME

nodes = st.sampled_from(["devA_0001", "devB_0002", "server", "0192f0a1-77aa-7c1e-9b1e-1234567890ab"])
physical = st.integers(0, 2**44)
clocks = st.builds(Hlc, physical, st.integers(0, 0xFFFF), nodes)
values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3),
                   st.lists(st.integers(0, 3), max_size=2))
registers = st.tuples(values, clocks.map(str))
resolvers = st.sampled_from(sorted(RESOLVERS_BY_NAME))


@given(resolvers, registers, registers)
def test_merge_commutative(name: str, a: Any, b: Any) -> None:
    fn = RESOLVERS_BY_NAME[name]
    assert fn(a, b) == fn(b, a)


@given(resolvers, registers, registers, registers)
def test_merge_associative(name: str, a: Any, b: Any, c: Any) -> None:
    fn = RESOLVERS_BY_NAME[name]
    assert fn(fn(a, b), c) == fn(a, fn(b, c))


@given(resolvers, registers)
def test_merge_idempotent(name: str, a: Any) -> None:
    assert RESOLVERS_BY_NAME[name](a, a) == a


@given(resolvers, st.lists(registers, min_size=1, max_size=8), st.randoms())
def test_merge_order_independent(name: str, regs: list[Any], rnd: Any) -> None:
    fn = RESOLVERS_BY_NAME[name]
    shuffled = list(regs)
    rnd.shuffle(shuffled)

    def fold(xs: list[Any]) -> Any:
        acc = xs[0]
        for x in xs[1:]:
            acc = fn(acc, x)
        return acc

    assert fold(regs) == fold(shuffled)


@given(st.lists(registers, min_size=1, max_size=6))
def test_sticky_true_keeps_tombstones(regs: list[Any]) -> None:
    acc = regs[0]
    for r in regs[1:]:
        acc = RESOLVERS_BY_NAME["sticky_true"](acc, r)
    assert (acc[0] is True) == any(r[0] is True for r in regs)


@given(clocks)
def test_clock_string_round_trip_and_width(c: Hlc) -> None:
    assert Hlc.parse(str(c)) == c
    assert len(str(c)) == 18 + len(c.node)


@given(clocks, clocks)
def test_string_order_is_clock_order(a: Hlc, b: Hlc) -> None:
    assert (str(a) < str(b)) == (a < b)


events = st.lists(
    st.tuples(
        st.sampled_from(["tick", "recv"]),
        st.integers(-6 * 3_600_000, 6 * 3_600_000),  # wall clock jumps: hours back or forward
        clocks,
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(st.integers(1_600_000_000_000, 1_900_000_000_000), events)
def test_hlc_monotonic_under_any_events(start: int, evs: list[tuple[str, int, Hlc]]) -> None:
    clock = Clock("devA_0001")
    last = str(clock.state)
    wall = start
    for kind, jump, remote in evs:
        wall = max(0, min(MAX_PHYSICAL, wall + jump))
        if kind == "tick":
            now = clock.tick(wall)
        else:
            now = clock.observe(str(remote), wall)
            assert now > str(Hlc(remote.physical, remote.counter, "devA_0001")) or remote.physical == MAX_PHYSICAL
        assert now > last
        assert Hlc.parse(now).physical >= min(wall, MAX_PHYSICAL) or Hlc.parse(now).physical == MAX_PHYSICAL
        last = now


@given(clocks, clocks, st.integers(0, 2**44))
def test_receive_dominates_both(local: Hlc, remote: Hlc, now: int) -> None:
    out = receive(local, remote, now)
    assert (out.physical, out.counter) > (local.physical, local.counter)
    assert (out.physical, out.counter) > (remote.physical, remote.counter)
    assert out.node == local.node
    assert stamp(out, now) > out


@given(st.lists(st.tuples(st.sampled_from(["customers", "visits"]), st.uuids().map(str), st.integers(0, 2**40)),
                max_size=20), st.randoms())
def test_bucket_sum_is_additive_and_order_free(rows: list[tuple[str, str, int]], rnd: Any) -> None:
    count, total = checksum.bucket_sum(rows)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert checksum.bucket_sum(shuffled) == (count, total)
    running = 0
    for t, i, v in rows:
        running = checksum.add(running, checksum.row_hash(t, i, v))
    for t, i, v in rows:
        running = checksum.sub(running, checksum.row_hash(t, i, v))
    assert running == 0

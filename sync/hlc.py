"""Hybrid logical clocks as fixed-width sortable strings (R-HLC-1..5).

String order equals (physical, counter, node) order, so clocks compare with ``<`` in
Python, TypeScript and SQL alike.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MAX_PHYSICAL = 0xFFFF_FFFF_FFFF
MAX_COUNTER = 0xFFFF
SERVER_NODE = "server"
NODE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
_HLC_RE = re.compile(r"^([0-9a-f]{12})-([0-9a-f]{4})-([A-Za-z0-9_.:-]{1,40})$")


class InvalidClock(ValueError):
    """A string that is not a clock value of R-HLC-1."""


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    physical: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        if not 0 <= self.physical <= MAX_PHYSICAL:
            raise InvalidClock(f"physical time out of range: {self.physical}")
        if not 0 <= self.counter <= MAX_COUNTER:
            raise InvalidClock(f"counter out of range: {self.counter}")
        if not NODE_RE.match(self.node):
            raise InvalidClock(f"invalid node id: {self.node!r}")

    def __str__(self) -> str:
        return f"{self.physical:012x}-{self.counter:04x}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Hlc:
        return _parse(text)

    @classmethod
    def zero(cls, node: str) -> Hlc:
        return cls(0, 0, node)


@functools.lru_cache(maxsize=4096)  # a push parses each mutation's clock three times
def _parse(text: str) -> Hlc:
    m = _HLC_RE.match(text)
    if m is None:
        raise InvalidClock(f"not a clock value: {text!r}")
    return Hlc(int(m.group(1), 16), int(m.group(2), 16), m.group(3))


def is_clock(text: object) -> bool:
    return isinstance(text, str) and _HLC_RE.match(text) is not None


def physical_of(text: str) -> int:
    return Hlc.parse(text).physical


def _normalise(physical: int, counter: int, node: str) -> Hlc:
    # R-HLC-5: counter overflow carries into the physical part.
    if counter > MAX_COUNTER:
        physical += 1
        counter = 0
    return Hlc(min(physical, MAX_PHYSICAL), counter, node)


def stamp(local: Hlc, now_ms: int) -> Hlc:
    """R-HLC-3: a local event or send."""
    pt = max(local.physical, now_ms)
    counter = local.counter + 1 if pt == local.physical else 0
    return _normalise(pt, counter, local.node)


def receive(local: Hlc, remote: Hlc, now_ms: int) -> Hlc:
    """R-HLC-4: merge a remote clock into the local one (the node stays local)."""
    pt = max(local.physical, remote.physical, now_ms)
    if pt == local.physical == remote.physical:
        counter = max(local.counter, remote.counter) + 1
    elif pt == local.physical:
        counter = local.counter + 1
    elif pt == remote.physical:
        counter = remote.counter + 1
    else:
        counter = 0
    return _normalise(pt, counter, local.node)


class Clock:
    """A node's mutable HLC state; ``now_ms`` is injected so tests control time."""

    def __init__(self, node: str, now_ms: int = 0) -> None:
        self.state = Hlc.zero(node)
        self._last_now = now_ms

    @property
    def node(self) -> str:
        return self.state.node

    def tick(self, now_ms: int) -> str:
        self.state = stamp(self.state, now_ms)
        return str(self.state)

    def observe(self, remote: str, now_ms: int) -> str:
        self.state = receive(self.state, Hlc.parse(remote), now_ms)
        return str(self.state)

    def reset(self, now_ms: int) -> None:
        """R-HLC-9: forget a runaway clock state and restart from corrected wall time."""
        self.state = Hlc(max(0, min(now_ms, MAX_PHYSICAL)), 0, self.state.node)

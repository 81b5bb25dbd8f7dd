"""Row ids: a UUID, or its text in any form ``uuid.UUID`` reads, parsed once per value.

A push names the same few ids (its customers, visits, plans) dozens of times as the engine,
the store and the cadence each check and normalize them; parsing each time was a twentieth
of a push's server time. ``uuid_of`` and ``canonical`` answer repeats from a bounded dict
keyed by the value itself (a text in any form, or a ``uuid.UUID``): one lookup, where a
``functools.lru_cache`` took three times as long for a text and formatting a UUID five.
"""

from __future__ import annotations

import uuid
from typing import Any

CACHE_MAX = 16384
_known: dict[Any, tuple[uuid.UUID, str]] = {}  # a value that names an id -> (the UUID, its canonical text)


def _learn(value: Any) -> tuple[uuid.UUID, str]:
    """Parse ``value`` (``ValueError``/``TypeError`` if it names no id; refusals are not kept)."""
    parsed = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    entry = (parsed, str(parsed))
    if len(_known) >= CACHE_MAX:
        _known.clear()
    _known[value] = entry
    _known[entry[1]] = entry
    return entry


def uuid_of(value: Any) -> uuid.UUID:
    """``value`` as a UUID; ``ValueError`` (or ``TypeError``) if it names none."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return _known[value][0]
    except (KeyError, TypeError):  # TypeError: unhashable, so no id either
        return _learn(value)[0]


def canonical(value: Any) -> str:
    """``value``'s canonical text: 36 characters, lowercase hex and hyphens."""
    try:
        return _known[value][1]
    except (KeyError, TypeError):
        return _learn(value)[1]

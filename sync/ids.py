"""Row ids: a UUID, or its text in any form ``uuid.UUID`` reads, parsed once per value.

A push names the same few ids (its customers, visits, plans) dozens of times as the engine,
the store and the cadence each check and normalize them; parsing each time was a twentieth
of a push's server time. ``uuid_of`` and ``canonical`` answer repeats from a bounded cache.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any


@functools.lru_cache(maxsize=16384)
def _parsed(text: str) -> tuple[uuid.UUID, str]:
    value = uuid.UUID(text)
    return value, str(value)


def uuid_of(value: Any) -> uuid.UUID:
    """``value`` as a UUID; ``ValueError`` (or ``TypeError``) if it names none."""
    if isinstance(value, uuid.UUID):
        return value
    return _parsed(str(value))[0]


def canonical(value: Any) -> str:
    """``value``'s canonical text: 36 characters, lowercase hex and hyphens."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return _parsed(str(value))[1]

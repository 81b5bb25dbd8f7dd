"""UUID version 7 (RFC 9562): time-ordered ids for rows the server creates."""

from __future__ import annotations

import os
import uuid


def uuid7(unix_ms: int) -> uuid.UUID:
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return uuid.UUID(int=value)

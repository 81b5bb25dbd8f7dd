"""Opaque pull cursors (R-CUR-3): base64url of a small JSON object.

``e`` = database epoch (R-CUR-4), ``p`` = bucket -> last delivered seq, ``f`` = the
initial sync's priority page was sent (R-PULL-4). Clients never parse it.
"""

from __future__ import annotations

import base64
import binascii

import msgspec


class CursorState(msgspec.Struct, forbid_unknown_fields=True):
    e: str
    p: dict[str, int]
    f: bool = False


class BadCursor(ValueError):
    pass


_decoder = msgspec.json.Decoder(CursorState)


def encode(state: CursorState) -> str:
    raw = msgspec.json.encode(state, order="sorted")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(text: str) -> CursorState:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        state = _decoder.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise BadCursor("cursor cannot be decoded") from exc
    if any(v < 0 for v in state.p.values()):
        raise BadCursor("negative position")
    return state

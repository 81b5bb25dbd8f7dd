"""Access tokens: verified once, then remembered until they expire; a remembered token
still expires on time and is still bound to the key that signed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from server.auth.tokens import decode_access, encode_access

KEY = "k" * 40
ISSUED = datetime.now(UTC) - timedelta(minutes=1)  # PyJWT refuses an "iat" in the future


def _at(minutes: float) -> float:
    return (ISSUED + timedelta(minutes=minutes)).timestamp()


def test_a_token_is_valid_until_its_expiry_also_when_remembered() -> None:
    user = uuid4()
    token = encode_access(KEY, user, 3, 15, ISSUED)
    assert decode_access(KEY, token, now=_at(1)) == (user, 3)
    assert decode_access(KEY, token, now=_at(14.9)) == (user, 3)  # remembered: no second decode
    assert decode_access(KEY, token, now=_at(15)) is None
    assert decode_access(KEY, token, now=_at(60)) is None


def test_a_token_first_seen_after_its_expiry_is_refused() -> None:
    token = encode_access(KEY, uuid4(), 0, 15, ISSUED)
    assert decode_access(KEY, token, now=_at(16)) is None
    assert decode_access(KEY, token, now=_at(16)) is None


def test_a_remembered_token_is_not_valid_under_another_key() -> None:
    token = encode_access(KEY, uuid4(), 0, 15, ISSUED)
    assert decode_access(KEY, token, now=_at(1)) is not None
    assert decode_access("other" * 8, token, now=_at(1)) is None


def test_a_changed_token_is_refused() -> None:
    token = encode_access(KEY, uuid4(), 0, 15, ISSUED)
    assert decode_access(KEY, token, now=_at(1)) is not None
    head, payload, signature = token.split(".")
    assert decode_access(KEY, f"{head}.{payload}.{signature[:-2]}AA", now=_at(1)) is None
    assert decode_access(KEY, f"{head}.{payload}x.{signature}", now=_at(1)) is None
    assert decode_access(KEY, "not.a.jwt", now=_at(1)) is None

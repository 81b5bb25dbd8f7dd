"""Access tokens (short JWT) and refresh tokens (opaque, stored hashed, revocable)."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt

ALGORITHM = "HS256"
ISSUER = "revisit"


def encode_access(
    key: str, user_id: UUID, token_version: int, minutes: int, now: datetime
) -> str:
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "tv": token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "iss": ISSUER,
        "jti": uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


# Tokens already verified, by (key, token): a device sends the same access token with every
# request until it expires, and PyJWT's full decode (base64, JSON, signature, each claim)
# was a tenth of a small request's server time. A hit still checks the expiry; revocation is
# the user's ``token_version``, read from the database on every request either way.
_VERIFIED: dict[tuple[str, str], tuple[UUID, int, float]] = {}
_VERIFIED_MAX = 20_000


def decode_access(key: str, token: str, now: float | None = None) -> tuple[UUID, int] | None:
    """The user id and token version, or None for any invalid or expired token."""
    at = time.time() if now is None else now
    hit = _VERIFIED.get((key, token))
    if hit is not None:
        return (hit[0], hit[1]) if at < hit[2] else None
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub"], "verify_exp": False},
        )
        user_id, version, exp = UUID(str(claims["sub"])), int(claims.get("tv", 0)), float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    if at >= exp:
        return None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()  # at most a few minutes of tokens; the next requests verify again
    _VERIFIED[(key, token)] = (user_id, version, exp)
    return user_id, version


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)

"""Access tokens (short JWT) and refresh tokens (opaque, stored hashed, revocable)."""

from __future__ import annotations

import hashlib
import secrets
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


def decode_access(key: str, token: str) -> tuple[UUID, int] | None:
    """The user id and token version, or None for any invalid or expired token."""
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]}
        )
        return UUID(str(claims["sub"])), int(claims.get("tv", 0))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)

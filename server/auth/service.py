"""Login, refresh and logout: tokens issued, rotated and revoked."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from server.auth.passwords import verify_password
from server.auth.schemas import CurrentUser, TokenPair
from server.auth.tokens import encode_access, hash_refresh, new_refresh_token
from server.auth.users import user_and_hash_by_username, user_by_id
from server.db import write_transaction
from server.errors import ApiError
from server.settings import Settings
from server.tables import RefreshToken, User


def _bad_credentials() -> ApiError:
    return ApiError(401, "bad_credentials", "wrong username or password")


async def _issue(
    user: CurrentUser, key: str, settings: Settings, now: datetime, device_id: str | None
) -> TokenPair:
    refresh = new_refresh_token()
    await RefreshToken.insert(
        RefreshToken(
            id=uuid4(),
            user_id=user.id,
            token_hash=hash_refresh(refresh),
            device_id=device_id,
            created_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    return TokenPair(
        access_token=encode_access(key, user.id, user.token_version, settings.access_token_minutes, now),
        refresh_token=refresh,
        token_type="Bearer",
        expires_in=settings.access_token_minutes * 60,
        user=user.public(),
    )


async def login(
    username: str, password: str, device_id: str | None, key: str, settings: Settings, now: datetime
) -> TokenPair:
    found = await user_and_hash_by_username(username)
    if not verify_password(found[1] if found else None, password) or found is None:
        raise _bad_credentials()
    user = found[0]
    if not user.active:
        raise ApiError(403, "user_inactive", "this account has been deactivated")
    return await _issue(user, key, settings, now, device_id)


async def refresh(token: str, key: str, settings: Settings, now: datetime) -> TokenPair:
    """Rotate: the presented refresh token is revoked and a new pair issued."""
    async with write_transaction():
        row = (
            await RefreshToken.select()
            .where(RefreshToken.token_hash == hash_refresh(token))
            .first()
        )
        if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
            raise ApiError(401, "refresh_invalid", "refresh token is invalid, expired or revoked")
        user = await user_by_id(row["user_id"])
        if user is None or not user.active:
            raise ApiError(401, "user_inactive", "this account has been deactivated")
        await RefreshToken.update({RefreshToken.revoked_at: now}).where(
            RefreshToken.id == row["id"]
        )
        return await _issue(user, key, settings, now, row["device_id"])


async def logout(token: str | None, user: CurrentUser, now: datetime) -> None:
    query = RefreshToken.update({RefreshToken.revoked_at: now}).where(
        (RefreshToken.user_id == user.id) & RefreshToken.revoked_at.is_null()
    )
    if token:
        query = query.where(RefreshToken.token_hash == hash_refresh(token))
    await query


async def revoke_all(user_id: object, now: datetime) -> None:
    """Deactivation, password reset: every token of the user stops working at once."""
    async with write_transaction():
        await User.update({User.token_version: User.token_version + 1}).where(User.id == user_id)
        await RefreshToken.update({RefreshToken.revoked_at: now}).where(
            (RefreshToken.user_id == user_id) & RefreshToken.revoked_at.is_null()
        )

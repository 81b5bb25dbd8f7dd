"""Wire types of the auth endpoints."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    device_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class UserPublic(msgspec.Struct):
    id: UUID
    username: str
    display_name: str
    role: str
    region_id: UUID | None
    locale: str
    time_zone: str
    quiet_start: str
    quiet_end: str
    active: bool


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: UserPublic


class CurrentUser(msgspec.Struct, frozen=True):
    """The authenticated caller, as loaded by the middleware on every request."""

    id: UUID
    username: str
    display_name: str
    role: str
    region_id: UUID | None
    locale: str
    time_zone: str
    quiet_start: str
    quiet_end: str
    active: bool
    token_version: int

    def public(self) -> UserPublic:
        return UserPublic(
            id=self.id,
            username=self.username,
            display_name=self.display_name,
            role=self.role,
            region_id=self.region_id,
            locale=self.locale,
            time_zone=self.time_zone,
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
            active=self.active,
        )

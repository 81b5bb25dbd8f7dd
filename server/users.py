"""Creating users and regions (CLI, admin API, demo data share this)."""

from __future__ import annotations

from uuid import UUID, uuid4

from server.auth.passwords import hash_password
from server.tables import Region, User

ROLES = ("rep", "manager", "admin")


async def ensure_region(name: str, time_zone: str = "Asia/Shanghai") -> UUID:
    row = await Region.select(Region.id).where(Region.name == name).first()
    if row:
        return row["id"]  # type: ignore[no-any-return]
    region_id = uuid4()
    await Region.insert(Region(id=region_id, name=name, time_zone=time_zone))
    return region_id


async def create_user(
    username: str,
    password: str,
    role: str,
    region_id: UUID | None,
    display_name: str | None = None,
    locale: str = "en",
    time_zone: str = "Asia/Shanghai",
    password_hash: str | None = None,
) -> UUID:
    """``password_hash`` lets bulk loaders hash a shared demo password once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role in ("rep", "manager") and region_id is None:
        raise ValueError(f"a {role} needs a region")
    user_id = uuid4()
    await User.insert(
        User(
            id=user_id,
            username=username,
            display_name=display_name or username,
            role=role,
            region_id=region_id,
            locale=locale,
            time_zone=time_zone,
            password_hash=password_hash or hash_password(password),
        )
    )
    return user_id

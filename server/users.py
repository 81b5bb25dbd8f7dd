"""Creating users and regions (CLI, admin API, demo and tests share this).

Both are synced reference data (regions to everyone, users to their region's manager),
so they are written through the sync write path and devices receive them.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from server.auth.passwords import hash_password
from server.db import write_transaction
from server.sync.service import apply_mutations, touch
from server.tables import Region, User
from sync.actor import Actor

ROLES = ("rep", "manager", "admin")
# The server acting on its own behalf (CLI, set-up): an admin that is no user.
SYSTEM = Actor(user_id=UUID(int=0), role="admin", region_id=None)


async def ensure_region(name: str, time_zone: str = "Asia/Shanghai") -> UUID:
    row = await Region.select(Region.id).where(Region.name == name).first()
    if row:
        return row["id"]  # type: ignore[no-any-return]
    region_id = uuid4()
    [result] = await apply_mutations(
        SYSTEM,
        [{"kind": "create", "table": "regions", "id": str(region_id),
          "row": {"name": name, "time_zone": time_zone}}],
    )
    if not result.ok:
        raise ValueError(f"region {name!r}: {result.message}")
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
    quiet_start: str = "21:00",
    quiet_end: str = "08:00",
) -> UUID:
    """``password_hash`` lets bulk loaders hash a shared demo password once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role in ("rep", "manager") and region_id is None:
        raise ValueError(f"a {role} needs a region")
    user_id = uuid4()
    async with write_transaction():
        await User.insert(
            User(
                id=user_id,
                username=username,
                display_name=display_name or username,
                role=role,
                region_id=region_id,
                locale=locale,
                time_zone=time_zone,
                quiet_start=quiet_start,
                quiet_end=quiet_end,
                password_hash=password_hash or hash_password(password),
            )
        )
        await touch(SYSTEM, "users", str(user_id))  # R-BUCKET-1: the region's devices get it
    return user_id

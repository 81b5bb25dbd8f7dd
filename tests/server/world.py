"""A small, fixed world of regions and users for API tests, and logging in as them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from uuid import UUID

PASSWORD = "correct horse battery"
TEST_KEY = "test-secret-key-" + "x" * 32  # the key of the ``settings`` fixture


@dataclass
class Person:
    username: str
    role: str
    id: UUID
    region_id: UUID | None
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    north: UUID
    south: UUID
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Person:
        return self.people[name]


async def build_world(client: Any) -> World:
    """admin; north: manager ann, reps rob and rita; south: manager sam, rep sue."""
    from server.users import create_user, ensure_region

    north = await ensure_region("North")
    south = await ensure_region("South")
    world = World(north=north, south=south)
    spec = [
        ("admin", "admin", None),
        ("ann", "manager", north),
        ("rob", "rep", north),
        ("rita", "rep", north),
        ("sam", "manager", south),
        ("sue", "rep", south),
    ]
    for username, role, region in spec:
        user_id = await create_user(
            username, PASSWORD, role, region, display_name=username.title(), password_hash=_hash()
        )
        world.people[username] = Person(username, role, user_id, region)
    for person in world.people.values():
        person.token = token_for(person.id)
    return world


def token_for(user_id: UUID, token_version: int = 0) -> str:
    """An access token as login would issue it (login itself is tested in test_auth)."""
    from server.auth.tokens import encode_access, utcnow

    return encode_access(TEST_KEY, user_id, token_version, 15, utcnow())


@cache
def _hash() -> str:
    from server.auth.passwords import hash_password

    return hash_password(PASSWORD)

"""Who is asking: the identity every push, pull and REST call is authorized against."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

Role = Literal["rep", "manager", "admin"]


class Actor(msgspec.Struct, frozen=True):
    user_id: UUID
    role: Role
    region_id: UUID | None

    def can_see(self, owner_id: UUID | None, region_id: UUID | None) -> bool:
        """Scope rule (R-SCOPE-1): rep -> own customers, manager -> own region, admin -> all."""
        if self.role == "admin":
            return True
        if self.role == "manager":
            return region_id is not None and region_id == self.region_id
        return owner_id is not None and owner_id == self.user_id

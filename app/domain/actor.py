"""Who is calling, and the role checks every rule starts with."""

from __future__ import annotations

from dataclasses import dataclass

from beanie import PydanticObjectId

from app.domain.errors import Forbidden, Unauthenticated
from app.models import Role


@dataclass(frozen=True)
class Actor:
    user_id: PydanticObjectId
    role: Role
    doctor_id: PydanticObjectId | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise Unauthenticated()
    return actor


def require_role(actor: Actor | None, *roles: Role) -> Actor:
    found = require_actor(actor)
    if found.role not in roles:
        raise Forbidden(f"Requires role {' or '.join(r.value for r in roles)}")
    return found

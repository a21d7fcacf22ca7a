"""Who is calling, and the role checks every rule starts with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from beanie import PydanticObjectId

from app.core.errors import Forbidden, Unauthenticated
from app.domain.auth import revocations
from app.models import Role


@dataclass(frozen=True)
class Actor:
    user_id: PydanticObjectId
    role: Role
    doctor_id: PydanticObjectId | None = None
    expires_at: datetime | None = None  # when the access token that proves it expires
    session_id: str | None = None  # the sign-in session the access token belongs to

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise Unauthenticated()
    return actor


def still_valid(actor: Actor | None, now: datetime | None = None) -> bool:
    """False once the token behind a long-lived connection has expired or its session ended."""
    if actor is None:
        return True
    if revocations.ended(actor.session_id):
        return False
    if actor.expires_at is None:
        return True
    return actor.expires_at > (now or datetime.now(UTC))


def require_role(actor: Actor | None, *roles: Role) -> Actor:
    found = require_actor(actor)
    if found.role not in roles:
        raise Forbidden(f"Requires role {' or '.join(r.value for r in roles)}")
    return found

"""What signing in answers."""

from __future__ import annotations

import strawberry

from app.schema.catalog.types import User


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: User

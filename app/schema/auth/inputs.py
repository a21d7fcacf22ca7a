"""Registering an account."""

from __future__ import annotations

import strawberry


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str
    phone: str | None = None
    timezone: str | None = strawberry.field(
        default=None, description="IANA; defaults to the clinic's (CLINIC_TIMEZONE)."
    )

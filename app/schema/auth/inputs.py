"""Registering an account."""

from __future__ import annotations

import strawberry


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str
    phone: str | None = None

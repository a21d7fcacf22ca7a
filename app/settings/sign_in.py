"""The sign-in settings (docs/security.md): login and registration limits, password hashing.
A part of `Settings` (app/settings/__init__.py), kept apart to keep each file short."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class SignInSettings(BaseSettings):
    rate_limit_login_account: str = "10/15 minutes"
    rate_limit_login_address: str = "60/15 minutes"
    rate_limit_register_address: str = "20/hour"
    # Registrations naming a taken email, per address: the contract answers CONFLICT, so this
    # bounds how fast an address can learn which emails have accounts.
    rate_limit_register_taken: str = "5/hour"
    # An address that signed in to an account is "known" to it this long: there the right
    # password passes even while the account is over RATE_LIMIT_LOGIN_ACCOUNT.
    rate_limit_login_known_days: int = Field(default=30, ge=1, le=365)
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    # argon2id parameters of new hashes: RFC 9106's low-memory profile (64 MiB, 3 passes), or
    # APP_ENV=test only, argon2-cffi's cheapest (8 KiB, 1 pass), so a test suite signing in
    # thousands of people spends its CPU on what it tests. Hashes carry their own parameters.
    password_hash_cost: Literal["standard", "cheapest"] = "standard"
    # Test-only (honoured only with APP_ENV=test): a rotation waits this long between
    # spending the old refresh token and writing the new one, so a test can interleave a replay.
    test_refresh_pause_seconds: float = Field(default=0.0, ge=0, le=30)

"""Password hashing with argon2id, off the event loop and a few at a time."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from app.settings import get_settings

_hashing: asyncio.Semaphore | None = None


@cache
def _hasher() -> PasswordHasher:
    if get_settings().password_hash_cost == "cheapest":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


@cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so a failed login costs the same either way."""
    return _hasher().hash("not-a-real-password")


def _hashing_slots() -> asyncio.Semaphore:
    """Each argon2 hash takes 64 MiB: a burst of logins waits here instead of growing memory."""
    global _hashing
    if _hashing is None:
        _hashing = asyncio.Semaphore(get_settings().password_hash_concurrency)
    return _hashing


async def hash_password(password: str) -> str:
    async with _hashing_slots():
        return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            verified = _hasher().verify(password_hash or _dummy_hash(), password)
            return verified and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    async with _hashing_slots():
        return await asyncio.to_thread(verify)

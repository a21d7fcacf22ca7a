"""Password hashing with argon2id, off the event loop and a few at a time."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.settings import get_settings

_hasher = PasswordHasher()
# Verified when the email is unknown, so a failed login costs the same either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_hashing: asyncio.Semaphore | None = None


def _hashing_slots() -> asyncio.Semaphore:
    """Each argon2 hash takes 64 MiB: a burst of logins waits here instead of growing memory."""
    global _hashing
    if _hashing is None:
        _hashing = asyncio.Semaphore(get_settings().password_hash_concurrency)
    return _hashing


async def hash_password(password: str) -> str:
    async with _hashing_slots():
        return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    async with _hashing_slots():
        return await asyncio.to_thread(verify)

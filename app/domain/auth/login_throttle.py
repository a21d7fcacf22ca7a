"""Failed logins per account, counted across processes: password guessing gets a few tries.

Only failures count, so a user who signs in often is never refused; once an account is over,
even the right password is refused until the window moves on (RATE_LIMITED, retryAfter).
Attempts per client address are limited where the request arrives (app/resolvers).
"""

from __future__ import annotations

from app import rate_limits

BUCKET = "login_account"


def _account(email: str) -> str:
    return email.strip().lower()[:254]


async def refuse_if_over(email: str) -> None:
    await rate_limits.check(BUCKET, _account(email))


async def count_failure(email: str) -> None:
    await rate_limits.hit(BUCKET, _account(email))

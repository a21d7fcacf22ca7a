"""Failed logins per account, counted across processes: password guessing gets a few tries.

Only failures count, so a user who signs in often is never refused. Once an account is over
(RATE_LIMIT_LOGIN_ACCOUNT), sign-in to it is refused (RATE_LIMITED, retryAfter) from every
address except those it has signed in from before (RATE_LIMIT_LOGIN_KNOWN_DAYS): there the
right password still passes, so strangers guessing from many addresses cannot lock the owner
out. Guessing from a known address stays bounded by the per-address limit
(RATE_LIMIT_LOGIN_ADDRESS, applied where the request arrives, app/resolvers).
"""

from __future__ import annotations

from app import rate_limits
from app.core.errors import RateLimited

BUCKET = "login_account"
KNOWN = "login_known"


def _account(email: str) -> str:
    return email.strip().lower()[:254]


def _known_key(email: str, address: str) -> str:
    return f"{_account(email)}|{address}"


async def refuse_if_over(email: str, address: str) -> None:
    try:
        await rate_limits.check(BUCKET, _account(email))
    except RateLimited:
        if not await rate_limits.seen(KNOWN, _known_key(email, address)):
            raise


async def count_failure(email: str) -> bool:
    """Counts it; True when this failure put the account over (it is now locked to strangers)."""
    await rate_limits.hit(BUCKET, _account(email))
    try:
        await rate_limits.check(BUCKET, _account(email))
    except RateLimited:
        return True
    return False


async def signed_in(email: str, address: str) -> None:
    """Remember the address, so the account's owner passes there while it is over."""
    await rate_limits.mark(KNOWN, _known_key(email, address))

"""Per-caller rate limits with `limits`, shared across processes through Redis when configured."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.domain.errors import RateLimited
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RateLimits:
    limiter: MovingWindowRateLimiter
    rules: dict[str, RateLimitItem]

    async def hit(self, bucket: str, caller: str) -> None:
        """Count one call; RATE_LIMITED with retryAfter when over. Fails open if Redis is down."""
        await self._decide(bucket, caller, counting=True)

    async def check(self, bucket: str, caller: str) -> None:
        """RATE_LIMITED when `caller` is already over, without counting this call."""
        await self._decide(bucket, caller, counting=False)

    async def _decide(self, bucket: str, caller: str, counting: bool) -> None:
        rule = self.rules[bucket]
        allows = self.limiter.hit if counting else self.limiter.test
        try:
            if await allows(rule, bucket, caller):
                return
            stats = await self.limiter.get_window_stats(rule, bucket, caller)
        except Exception as exc:  # the limiter's store is down: serve rather than refuse
            log.warning("rate limiter unavailable (%s); allowing the call", exc)
            return
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))


def build_rate_limits(settings: Settings) -> RateLimits:
    url = f"async+{settings.redis_url}" if settings.redis_url else "async+memory://"
    # One prefix per database: deployments (and test sessions) sharing a Redis count apart.
    storage = storage_from_string(url, key_prefix=f"aayulink-rl:{settings.mongodb_db}")
    return RateLimits(
        limiter=MovingWindowRateLimiter(storage),
        rules={
            "lock": parse(settings.rate_limit_lock),
            "booking": parse(settings.rate_limit_booking),
            "emergency": parse(settings.rate_limit_emergency),
            "ws": parse(settings.rate_limit_ws_operations),
            "login_account": parse(settings.rate_limit_login_account),
            "login_address": parse(settings.rate_limit_login_address),
            "register_address": parse(settings.rate_limit_register_address),
        },
    )


_rate_limits: RateLimits | None = None


def set_rate_limits(rate_limits: RateLimits | None) -> None:
    global _rate_limits
    _rate_limits = rate_limits


async def hit(bucket: str, caller: str) -> None:
    if _rate_limits is not None:
        await _rate_limits.hit(bucket, caller)


async def check(bucket: str, caller: str) -> None:
    if _rate_limits is not None:
        await _rate_limits.check(bucket, caller)

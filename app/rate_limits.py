"""Per-caller rate limits with `limits`, shared across processes through Redis when configured."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.core.errors import RateLimited
from app.redis_link import Respite, client_options
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RateLimits:
    """Fails open: while the limiter's Redis is refused, stalled or erring, calls are allowed.

    Each call waits at most `timeout_seconds` for Redis; after a failure, calls skip Redis
    for a few seconds (`Respite`), so an outage costs one timeout, not one per request.
    """

    limiter: MovingWindowRateLimiter
    rules: dict[str, RateLimitItem]
    timeout_seconds: float = 1.0
    respite: Respite = field(default_factory=Respite)

    async def hit(self, bucket: str, caller: str) -> None:
        """Count one call; RATE_LIMITED with retryAfter when over."""
        await self._apply(bucket, caller, count=True)

    async def check(self, bucket: str, caller: str) -> None:
        """RATE_LIMITED when `caller` is already over, without counting this call."""
        await self._apply(bucket, caller, count=False)

    async def seen(self, bucket: str, caller: str) -> bool:
        """Whether `mark` was called for `caller` within the bucket's window (False while the
        limiter's store is away)."""
        rule = self.rules[bucket]
        if self.respite.resting:
            return False
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return not await self.limiter.test(rule, bucket, caller)
        except Exception as exc:
            self.respite.failed()
            log.warning("rate limiter unavailable (%r)", exc)
            return False

    async def mark(self, bucket: str, caller: str) -> None:
        """Remember `caller` for the bucket's window (its rule is "1/<window>")."""
        if self.respite.resting:
            return
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self.limiter.clear(self.rules[bucket], bucket, caller)
                await self.limiter.hit(self.rules[bucket], bucket, caller)
        except Exception as exc:
            self.respite.failed()
            log.warning("rate limiter unavailable (%r)", exc)

    async def _apply(self, bucket: str, caller: str, count: bool) -> None:
        rule = self.rules[bucket]
        if self.respite.resting:
            return
        try:
            async with asyncio.timeout(self.timeout_seconds):
                if count:
                    allowed = await self.limiter.hit(rule, bucket, caller)
                else:
                    allowed = await self.limiter.test(rule, bucket, caller)
                if allowed:
                    return
                stats = await self.limiter.get_window_stats(rule, bucket, caller)
        except Exception as exc:  # the limiter's store is down: serve rather than refuse
            self.respite.failed()
            log.warning("rate limiter unavailable (%r); allowing calls for a while", exc)
            return
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))


def build_rate_limits(settings: Settings, redis_prefix: str) -> RateLimits:
    """`redis_prefix`: this deployment's (app/redis_link.py), so deployments sharing a Redis
    count apart."""
    prefix = f"{redis_prefix}:rl"
    if settings.redis_url:
        # redis-py rather than the default coredis: the same client, timeouts and retry
        # policy as the event broker.
        storage = storage_from_string(
            f"async+{settings.redis_url}",
            key_prefix=prefix,
            implementation="redispy",
            **client_options(settings.redis_timeout_seconds),
        )
    else:
        storage = storage_from_string("async+memory://", key_prefix=prefix)
    return RateLimits(
        timeout_seconds=settings.redis_timeout_seconds,
        limiter=MovingWindowRateLimiter(storage),
        rules={
            "lock": parse(settings.rate_limit_lock),
            "booking": parse(settings.rate_limit_booking),
            "emergency": parse(settings.rate_limit_emergency),
            "ws": parse(settings.rate_limit_ws_operations),
            "login_account": parse(settings.rate_limit_login_account),
            "login_address": parse(settings.rate_limit_login_address),
            "register_address": parse(settings.rate_limit_register_address),
            "register_taken": parse(settings.rate_limit_register_taken),
            "login_known": parse(f"1/{settings.rate_limit_login_known_days} days"),
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


async def seen(bucket: str, caller: str) -> bool:
    return _rate_limits is not None and await _rate_limits.seen(bucket, caller)


async def mark(bucket: str, caller: str) -> None:
    if _rate_limits is not None:
        await _rate_limits.mark(bucket, caller)

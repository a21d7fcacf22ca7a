"""How this service talks to Redis: short timeouts, and a pause after a failure.

A stalled Redis (a stopped process, a full network buffer) would otherwise hold every
rate-limited request and every publish for as long as it stalls.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# After a failure, callers skip Redis this long instead of each waiting out the timeout.
REST_AFTER_FAILURE_SECONDS = 3.0


def key_prefix(configured: str | None, deployment_id: str) -> str:
    """The start of every Redis key and channel of this deployment (REDIS_KEY_PREFIX)."""
    return configured or f"aayulink:{deployment_id}"


def events_channel(configured: str | None, prefix: str) -> str:
    return configured or f"{prefix}:events"


def client_options(timeout_seconds: float, retries: int = 1) -> dict[str, Any]:
    """Options for `redis.asyncio.Redis.from_url`.

    `retries` retries only a dropped connection (a pooled one Redis closed while it was
    away), never a timeout: a stalled Redis costs one timeout, not one per retry.
    """
    return {
        "socket_timeout": timeout_seconds,
        "socket_connect_timeout": timeout_seconds,
        "retry": Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,)),
    }


class Respite:
    """Whether to leave Redis alone for now, after it failed.

    Hand-written: the circuit-breaker libraries (pybreaker, aiobreaker) would add a
    dependency for what is one timestamp here.
    """

    def __init__(self, seconds: float = REST_AFTER_FAILURE_SECONDS) -> None:
        self.seconds = seconds
        self.until = 0.0

    @property
    def resting(self) -> bool:
        return time.monotonic() < self.until

    def failed(self) -> None:
        self.until = time.monotonic() + self.seconds

    def recovered(self) -> None:
        self.until = 0.0

"""/readyz: ready only when the store, and Redis where configured, answer within seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.store.connection import get_store


class Readiness:
    """Probes with a short timeout each, side by side, so the answer never hangs."""

    def __init__(self, redis_url: str | None, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self.redis = (
            redis.Redis.from_url(
                redis_url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds
            )
            if redis_url
            else None
        )

    async def check(self) -> dict[str, str]:
        probes: dict[str, Callable[[], Awaitable[object]]] = {"store": self._ping_store}
        if self.redis is not None:
            probes["redis"] = self.redis.ping
        verdicts = await asyncio.gather(*(self._probe(ping) for ping in probes.values()))
        return dict(zip(probes, verdicts, strict=True))

    async def _ping_store(self) -> object:
        return await get_store().client.admin.command("ping")

    async def _probe(self, ping: Callable[[], Awaitable[object]]) -> str:
        try:
            await asyncio.wait_for(ping(), self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as exc:
            # The class only: messages can carry addresses or credentials from a URL.
            return f"unreachable ({type(exc).__name__})"
        return "ok"

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


async def readyz(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    checks = await readiness.check()
    ready = all(verdict == "ok" for verdict in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )

"""/readyz: ready only when the store, and Redis where configured, answer within seconds;
degraded (still 200) while the store answers but refuses writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.store import outage
from app.store.connection import get_store

REFUSING_WRITES = "answers, refusing writes "


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
        checks = dict(zip(probes, verdicts, strict=True))
        refusal = outage.refusing_writes()
        if checks["store"] == "ok" and refusal is not None:
            checks["store"] = f"{REFUSING_WRITES}({refusal})"
        return checks

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
    """A store refusing writes still serves reads, and every process shares it: taking this
    one out of a load balancer would stop the reads too, so it stays in, marked degraded."""
    readiness: Readiness = request.app.state.readiness
    checks = await readiness.check()
    degraded = {name for name, verdict in checks.items() if verdict.startswith(REFUSING_WRITES)}
    down = {name for name, verdict in checks.items() if verdict != "ok"} - degraded
    status = "unavailable" if down else "degraded" if degraded else "ready"
    return JSONResponse({"status": status, "checks": checks}, status_code=503 if down else 200)

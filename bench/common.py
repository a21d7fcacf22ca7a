"""What every scenario shares: sizes, percentiles, /proc readings, tokens and an HTTP client."""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt

from bench.http import HttpClient, HttpError

JWT_SECRET = "bench-secret-for-the-benchmark-runner-only-0123456789"
JWT_ISSUER = "aayulink-booking"
JWT_AUDIENCE = "aayulink-clients"
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-admin-password"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
GENEROUS_LIMIT = "100000/minute"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is; `--quick` shrinks every one but keeps every figure."""

    b1_patients: int
    b1_slots: int
    b1_background_slots: int
    b2_doctors: tuple[int, int]
    b2_slots_per_doctor: int
    b2_store_growth: int
    b2_requests: int
    b2_concurrency: int
    b3_subscribers: tuple[int, int]
    b3_events: int
    b3_event_interval_s: float
    b3_drain_timeout_s: float
    b4_connections: int
    b5_doctors: int
    b7_slots: tuple[int, int]
    b7_doctors: int
    b7_doctor_slots: tuple[int, int]
    b7_requests: int
    b7_write_calls: int
    b8_slots: int
    b8_reference_slots: int
    b8_window_s: float
    b9_navigations: int
    b11_doctor_slots: int
    b10_bookings: int


FULL = Sizes(
    b1_patients=200,
    b1_slots=50,
    b1_background_slots=50_000,
    b2_doctors=(10, 100),
    b2_slots_per_doctor=1,
    b2_store_growth=10,
    b2_requests=320,
    b2_concurrency=32,
    b3_subscribers=(100, 1000),
    b3_events=50,
    b3_event_interval_s=0.1,
    b3_drain_timeout_s=60.0,
    b4_connections=1000,
    b5_doctors=100,
    b7_slots=(1_000, 50_000),
    b7_doctors=100,
    b7_doctor_slots=(100, 5_000),
    b7_requests=200,
    b7_write_calls=10,
    b8_slots=50_000,
    b8_reference_slots=1_000,
    b8_window_s=60.0,
    b9_navigations=7,
    b11_doctor_slots=3_000,
    b10_bookings=1000,
)
QUICK = Sizes(
    b1_patients=40,
    b1_slots=10,
    b1_background_slots=1_000,
    b2_doctors=(5, 20),
    b2_slots_per_doctor=1,
    b2_store_growth=10,
    b2_requests=64,
    b2_concurrency=32,
    b3_subscribers=(20, 50),
    b3_events=10,
    b3_event_interval_s=0.1,
    b3_drain_timeout_s=20.0,
    b4_connections=100,
    b5_doctors=10,
    b7_slots=(400, 1_500),
    b7_doctors=20,
    b7_doctor_slots=(100, 500),
    b7_requests=24,
    b7_write_calls=3,
    b8_slots=5_000,
    b8_reference_slots=1_000,
    b8_window_s=20.0,
    b9_navigations=3,
    b11_doctor_slots=600,
    b10_bookings=100,
)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """p50/p99/max in milliseconds: the shape every latency figure takes."""
    return {
        "p50_ms": percentile(seconds, 50) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "max_ms": (max(seconds) * 1000) if seconds else math.nan,
        "samples": len(seconds),
    }


def ratio(value: float, reference: float) -> float:
    if not reference or math.isnan(reference) or math.isnan(value):
        return math.nan
    return value / reference


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (psutil is not a dependency)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def mint_token(user_id: str, role: str = "PATIENT", ttl_seconds: int = 4 * 3600) -> str:
    """An access token the API accepts, minted here so loading needs no login round trips."""
    now = datetime.now(UTC)
    claims = {
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
        "sub": user_id,
        "role": role,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def future_day(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def http_client() -> HttpClient:
    """A keep-alive client; it opens as many connections as requests run at once."""
    return HttpClient()


async def graphql(
    client: HttpClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST one operation; the decoded body (errors included), never raising on GraphQL errors."""
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    payload = json.dumps({"query": query, "variables": variables or {}}).encode()
    status, raw = await client.post(url, payload, sent)
    try:
        body: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise HttpError(f"HTTP {status}: {raw[:200]!r}") from exc
    return body


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    if not errors:
        return None
    return str(errors[0].get("extensions", {}).get("code", "UNKNOWN"))


async def run_concurrently[T](
    total: int, concurrency: int, work: Callable[[int], Awaitable[T]], progress: Any = None
) -> tuple[list[T], float]:
    """Run `work(i)` for i in range(total) on `concurrency` workers; results and wall seconds."""
    results: list[T] = []
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < total:
            index = next_index
            next_index += 1
            results.append(await work(index))
            if progress is not None:
                progress.update(1)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    return results, time.perf_counter() - started


class CpuMeter:
    """CPU seconds spent by named processes between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        return {f"{name}_cpu_s": after[name] - self.before[name] for name in self.pids}

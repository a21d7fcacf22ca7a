"""The processes a run measures: one embedded store, and API processes started per scenario.

Each scenario gets API processes of its own on a database of its own (same store process),
so one scenario's data never slows another's store scans, and so idle processes of an
earlier scenario never spend the store's time on their housekeeping loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis.asyncio as redis
from pydantic import TypeAdapter

from app.core.clock import utcnow
from app.events.messages import CacheInvalidated, Event
from app.store.embedded import EmbeddedStoreProcess, stop_process
from bench.common import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    GENEROUS_LIMIT,
    JWT_SECRET,
    REDIS_URL,
    cpu_seconds,
    rss_bytes,
)

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_env(mongodb_uri: str, db_name: str, channel: str) -> dict[str, str]:
    """The environment an API process of the benchmark runs with (limits out of the way)."""
    return {
        **os.environ,
        "APP_ENV": "test",
        "MONGODB_URI": mongodb_uri,
        "MONGODB_DB": db_name,
        "JWT_SECRET": JWT_SECRET,
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SEED_DEMO_DATA": "false",
        "REDIS_URL": REDIS_URL,
        "EVENTS_CHANNEL": channel,
        "LOG_LEVEL": "WARNING",
        "GRAPHIQL": "false",
        "RATE_LIMIT_LOCK": GENEROUS_LIMIT,
        "RATE_LIMIT_BOOKING": GENEROUS_LIMIT,
        "RATE_LIMIT_EMERGENCY": GENEROUS_LIMIT,
        "RATE_LIMIT_WS_OPERATIONS": GENEROUS_LIMIT,
        "RATE_LIMIT_LOGIN_ACCOUNT": GENEROUS_LIMIT,
        "RATE_LIMIT_LOGIN_ADDRESS": GENEROUS_LIMIT,
        "RATE_LIMIT_REGISTER_ADDRESS": GENEROUS_LIMIT,
        "RATE_LIMIT_REGISTER_TAKEN": GENEROUS_LIMIT,
    }


@dataclass
class UvicornProcess:
    """One uvicorn process serving `target` (the API, or the bare floor app of B4)."""

    target: str
    env: dict[str, str]
    log_dir: Path
    factory: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.target.split(':')[0].split('.')[-1]}-{self.port}.log"

    def spawn(self) -> None:
        command = [sys.executable, "-m", "uvicorn", self.target]
        if self.factory:
            command.append("--factory")
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        # As `python -m app serve` runs it (WS_COMPRESSION defaults to off).
        command += ["--ws-per-message-deflate", "false"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    async def wait_ready(self, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.target} exited:\n{self.logs()}")
                with contextlib.suppress(httpx.HTTPError):
                    reply = await client.get(f"http://127.0.0.1:{self.port}/healthz")
                    if reply.status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.target} did not start:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace_seconds=20)


ENGINES = ("sqlite", "memory")


class Store:
    """The embedded store a scenario runs on (mongoeco; a fresh one per scenario): by default
    the SQLite engine `serve` runs, on disk in a temporary directory; `memory` on request
    (and B1's reference)."""

    def __init__(self, engine: str = "sqlite") -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        self.engine = engine
        self.dir = Path(tempfile.mkdtemp(prefix="aayulink-bench-store-"))
        self.process = EmbeddedStoreProcess(engine, self.dir)
        self.uri = ""

    def start(self) -> str:
        self.uri = self.process.start()
        return self.uri

    @property
    def pid(self) -> int:
        assert self.process.process is not None
        return self.process.process.pid

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def api_processes(
    store_uri: str,
    db_name: str,
    log_dir: Path,
    count: int = 2,
    env: dict[str, str] | None = None,
) -> AsyncIterator[list[UvicornProcess]]:
    """`count` API processes on one database, sharing one Redis channel; stopped on exit.
    `env` adds to (or overrides) the bench's environment."""
    channel = f"aayulink-bench:{uuid.uuid4().hex[:12]}"
    processes = [
        UvicornProcess(
            "app.web.app:create_app",
            {**api_env(store_uri, db_name, channel), **(env or {})},
            log_dir,
            factory=True,
        )
        for _ in range(count)
    ]
    try:
        for process in processes:
            process.spawn()
        await asyncio.gather(*(p.wait_ready() for p in processes))
        yield processes
    finally:
        for process in processes:
            process.stop()


@contextlib.asynccontextmanager
async def floor_ws_process(log_dir: Path) -> AsyncIterator[UvicornProcess]:
    """The bare Starlette WebSocket route of B4's floor, in a uvicorn process of its own."""
    process = UvicornProcess("bench.floor_ws:app", dict(os.environ), log_dir)
    try:
        process.spawn()
        await process.wait_ready()
        yield process
    finally:
        process.stop()


async def announce_direct_writes(apis: list[UvicornProcess]) -> None:
    """The benches write doctors straight to the store, which no API process hears of: this
    announces it as the app's own writers do, so each process's read model re-reads its
    catalogue now rather than up to READ_MODEL_MAX_AGE_SECONDS later."""
    notice = CacheInvalidated(at=utcnow(), catalog=True)
    client = redis.Redis.from_url(apis[0].env["REDIS_URL"])
    try:
        await client.publish(apis[0].env["EVENTS_CHANNEL"], TypeAdapter(Event).dump_json(notice))
    finally:
        await client.aclose()

"""Real processes for the tests: the embedded store, uvicorn API servers and a private
redis-server, each on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from app.store.embedded import stop_process

ROOT = Path(__file__).resolve().parent.parent
TEST_JWT_SECRET = "test-secret-for-the-test-suite-only-0123456789"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-test-password"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Concurrent test sessions on one Redis never hear each other: each has a store of its own,
# and every Redis key and channel starts with the store's deployment id.


# Session-wide logins must outlive a slow run (the default is 900 s).
ACCESS_TOKEN_TTL_SECONDS = 7200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ApiServer:
    """One API process; `env` overrides the base environment (for short lock TTLs, say)."""

    mongodb_uri: str
    db_name: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    log_level: str = "warning"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self, log_dir: Path) -> ApiServer:
        env = {
            **os.environ,
            "APP_ENV": "test",
            "MONGODB_URI": self.mongodb_uri,
            "MONGODB_DB": self.db_name,
            "JWT_SECRET": TEST_JWT_SECRET,
            "ADMIN_EMAIL": ADMIN_EMAIL,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SEED_DEMO_DATA": "false",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": REDIS_URL,
            # Every test signs in from 127.0.0.1; the throttle's own tests set small limits.
            "RATE_LIMIT_LOGIN_ACCOUNT": "100000/minute",
            "RATE_LIMIT_LOGIN_ADDRESS": "100000/minute",
            "RATE_LIMIT_REGISTER_ADDRESS": "100000/minute",
            "RATE_LIMIT_REGISTER_TAKEN": "100000/minute",
            # Session-wide logins outlive a slow run; expiry tests set their own short TTL.
            "ACCESS_TOKEN_TTL_SECONDS": str(ACCESS_TOKEN_TTL_SECONDS),
            # Mail without SMTP_HOST lands here (outbox/mail), not in the repository's data/.
            "DATA_DIR": str(log_dir / f"data-{self.port}"),
            **self.env,
        }
        if env["APP_ENV"] == "test":
            # Argon2 at its cheapest (tests only): standard hashes were half these servers' CPU.
            env.setdefault("PASSWORD_HASH_COST", "cheapest")
        self.log_path = log_dir / f"api-{self.port}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "app.web.app:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    self.log_level,
                    "--ws-per-message-deflate",
                    "false",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"API server exited:\n{self.logs()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"API server did not start:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


@dataclass
class RedisProcess:
    """A `redis-server` of the test's own, on a free port, that keeps nothing on disk."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 20
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            while True:
                assert self.process.poll() is None, "redis-server exited at start"
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    pass
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        finally:
            client.close()

    def freeze(self) -> None:
        """SIGSTOP: the port stays open and connections hang, as with a stalled Redis."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()  # a stopped process would not hear SIGTERM
            stop_process(self.process)

    def __enter__(self) -> RedisProcess:
        """Started for a `with` block (a fixture of any scope) and stopped after it, whatever a
        test left it in."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def server_pair(
    store_uri: str, db_name: str, log_dir: Path, env: dict[str, str]
) -> Iterator[tuple[ApiServer, ApiServer]]:
    """Two API processes on the session's store with the same settings, both stopped after."""
    with ExitStack() as stack:
        servers = []
        for _ in range(2):
            server = ApiServer(store_uri, db_name, env=dict(env)).start(log_dir)
            stack.callback(server.stop)
            servers.append(server)
        yield servers[0], servers[1]

"""`python -m app serve` as an operator runs it: its own embedded store on a data directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.store.embedded import stop_process
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, TEST_JWT_SECRET, free_port

START_WITHIN_S = 120  # a liveness bound for the test, not a performance target


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a command on the embedded store in `data_dir`."""
    return {
        **{k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL")},
        "APP_ENV": "test",
        "DATA_DIR": str(data_dir),
        "JWT_SECRET": TEST_JWT_SECRET,
        **extra,
    }


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Serve:
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self) -> Serve:
        self.launch()
        return self.wait_ready()

    def launch(self) -> Serve:
        """Start `serve` without waiting for it to answer (to watch it fail to start)."""
        env = cli_env(
            self.data_dir,
            PORT=str(self.port),
            SEED_DEMO_DATA="false",
            ADMIN_EMAIL=ADMIN_EMAIL,
            ADMIN_PASSWORD=ADMIN_PASSWORD,
            LOG_LEVEL="INFO",
            **self.env,
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--workers", str(self.workers)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self) -> Serve:
        assert self.process is not None
        deadline = time.monotonic() + START_WITHIN_S
        while True:
            assert self.process.poll() is None, self.logs()
            assert time.monotonic() < deadline, self.logs()
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, 30)


def children(pid: int) -> list[int]:
    """The processes `pid` started (its workers and its store), from /proc."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue  # it ended while we looked
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent to reap it."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"

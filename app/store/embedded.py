"""The embedded default store: mongoeco's MongoDB wire-protocol server on loopback.

It runs in a process of its own so that every API worker, however many, talks to the
same engine by URI exactly as it would to a real MongoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire import AsyncMongoEcoProxyServer

from app.store import data_dir_lock
from app.store.backup import database_path
from app.store.engine_fixes import SynchronousLevel, apply_engine_fixes

READY_PREFIX = "EMBEDDED_STORE_URI="
# The store answers one command at a time, so more connections per client only lengthen the
# queue at the store, where the background lane's few commands (app/store/lanes.py) would
# wait behind every request in flight. Past these, requests wait in their own process.
CONNECTIONS_PER_CLIENT = 8
ERROR_PREFIX = "EMBEDDED_STORE_ERROR="
_SYNCHRONOUS_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


async def run_embedded_store(
    engine_kind: str, data_dir: Path, port: int = 0, synchronous: SynchronousLevel = "NORMAL"
) -> None:
    """Serve the store until SIGTERM/SIGINT, printing its URI on stdout once it listens,
    followed by the durability its SQLite connection reports (read back, not assumed).

    A SQLite store holds its data directory's lock while it runs, so no second store and
    no restore can open the same file under it.
    """
    apply_engine_fixes(synchronous)
    if engine_kind == "memory":
        engine: MemoryEngine | SQLiteEngine = MemoryEngine()
    else:
        try:
            lock = await asyncio.to_thread(data_dir_lock.take, data_dir)
        except data_dir_lock.DataDirInUse as exc:
            print(f"{ERROR_PREFIX}{exc}", flush=True)
            raise SystemExit(1) from None
        engine = SQLiteEngine(str(database_path(data_dir)))
    server = AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=port)
    address = await server.start()
    joiner = "&" if "?" in address.uri else "/?"
    uri = f"{address.uri}{joiner}maxPoolSize={CONNECTIONS_PER_CLIENT}"
    print(f"{READY_PREFIX}{uri} {_durability(engine)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(_stop_when_orphaned(stop))
    await stop.wait()
    watcher.cancel()
    await server.close()
    if engine_kind != "memory":
        lock.close()


def _durability(engine: MemoryEngine | SQLiteEngine) -> str:
    """ "journal_mode=wal synchronous=FULL" as the engine's own connection answers."""
    connection = getattr(engine, "_connection", None)
    if connection is None:
        return ""
    journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    level = connection.execute("PRAGMA synchronous").fetchone()[0]
    return f"journal_mode={journal} synchronous={_SYNCHRONOUS_NAMES.get(level, level)}"


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """The store serves the process that started it; when that one is gone, so is the store.

    uvicorn re-raises SIGTERM after its own shutdown, so the parent's cleanup may never run.
    """
    parent = os.getppid()
    while not stop.is_set():
        await asyncio.sleep(1)
        if os.getppid() != parent:
            stop.set()


def stop_process(process: subprocess.Popen[Any], grace_seconds: float = 15) -> None:
    """Ask a child process to stop; kill it if it has not within the grace period."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace_seconds)


class EmbeddedStoreProcess:
    """Starts the embedded store as a child process and stops it again."""

    def __init__(
        self,
        engine_kind: str,
        data_dir: Path,
        port: int = 0,
        synchronous: SynchronousLevel = "NORMAL",
    ) -> None:
        self.engine_kind = engine_kind
        self.data_dir = data_dir
        self.port = port
        self.synchronous = synchronous
        self.process: subprocess.Popen[str] | None = None
        self.uri: str | None = None
        # What the running store reports, e.g. {"journal_mode": "wal", "synchronous": "FULL"}.
        self.durability: dict[str, str] = {}

    def start(self, timeout: float = 300.0) -> str:
        """The store's URI once it listens; TimeoutError (an OSError, as the supervisor's
        restarts expect), with the process stopped, when it has not said so within `timeout`.

        Generous: a file another engine version or index set last opened has its index
        entries rebuilt once on opening (engine_fixes/index_backfill.py), about 70 s at
        50,000 slots and as many appointments; every later start takes about a second."""
        self._close_output()  # a restart: the previous process's pipe
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "embedded-store",
                "--engine",
                self.engine_kind,
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                "--synchronous",
                self.synchronous,
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
            # Its own process group: a terminal's Ctrl-C (sent to the whole group) must not
            # stop the store before the API has finished with it; the parent stops it last.
            start_new_session=True,
        )
        line = self._first_line(timeout)
        if line.startswith(ERROR_PREFIX):
            self.stop()
            raise RuntimeError(line[len(ERROR_PREFIX) :].strip())
        if not line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"embedded store did not start: {line!r}")
        self.uri, *details = line[len(READY_PREFIX) :].split()
        self.durability = dict(detail.partition("=")[::2] for detail in details)
        return self.uri

    def _first_line(self, timeout: float) -> str:
        """The first line the store prints, or "" when it ends first.

        Hand-written: the standard library has no readline with a timeout (communicate()
        waits for the end of the output). The pipe is read raw, so no text is left in a
        buffer of its file object."""
        assert self.process is not None and self.process.stdout is not None
        pipe = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        received = b""
        with selectors.DefaultSelector() as selector:
            selector.register(pipe, selectors.EVENT_READ)
            while b"\n" not in received:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.stop()
                    raise TimeoutError(f"embedded store did not start within {timeout:g} s")
                chunk = os.read(pipe, 4096)
                if not chunk:
                    break
                received += chunk
        return received.decode(errors="replace").partition("\n")[0]

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process(self.process)
        self._close_output()

    def _close_output(self) -> None:
        if self.process is not None and self.process.stdout:
            with contextlib.suppress(Exception):
                self.process.stdout.close()

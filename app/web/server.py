"""uvicorn, as `python -m app serve` runs it: WebSockets told why at shutdown, exit 0 after.

This is `uvicorn.run` for our case (an import string, no reload), with our Server: uvicorn
has no hook before it closes WebSockets itself (1012, no reason), and it re-raises SIGTERM
after a graceful shutdown, which would end the process before it stops the store it started.
Workers stop when `serve` is gone, and a worker that cannot start makes `serve` exit non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator

import uvicorn
from uvicorn.server import HANDLED_SIGNALS
from uvicorn.supervisors import multiprocess

from app.settings import Settings
from app.store import guards
from app.web import draining
from app.web.draining import ANSWER_MARGIN_SECONDS
from app.web.traffic import close_all

log = logging.getLogger(__name__)
STARTUP_FAILURE = 3  # uvicorn's code for a worker whose start-up failed
WEBSOCKET_CLOSE_WAIT_SECONDS = 5
ORPHAN_CHECK_SECONDS = 1.0


def shutdown_grace(settings: Settings) -> int:
    """SHUTDOWN_GRACE_SECONDS, raised to cover a request's slowest legitimate wait: a patient's
    lease (app/store/guards.py) and then a store command up to STORE_TIMEOUT_SECONDS; shorter,
    requests that would have finished are answered SERVICE_UNAVAILABLE instead."""
    slowest = guards.WAIT_SECONDS + settings.store_timeout_seconds + ANSWER_MARGIN_SECONDS
    grace = max(settings.shutdown_grace_seconds, math.ceil(slowest))
    if grace != settings.shutdown_grace_seconds:
        log.info(
            "shutdown grace %d s, not SHUTDOWN_GRACE_SECONDS=%d: the slowest request needs it",
            grace,
            settings.shutdown_grace_seconds,
        )
    return grace


class GracefulServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connections while the open ones are told to go
        draining.begin(float(self.config.timeout_graceful_shutdown or 0))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(close_all(), WEBSOCKET_CLOSE_WAIT_SECONDS)
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, without re-raising the signal once the shutdown is done."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def _exit_with_parent(parent: int, grace_seconds: float) -> None:
    """A worker whose `serve` is gone (kill -9) stops too, rather than keep holding the port.

    A thread polling os.getppid() rather than Linux's prctl(PR_SET_PDEATHSIG): the same way
    the store notices (app/store/embedded.py), portable, and free of PDEATHSIG's catch that it
    fires when the parent's creating thread ends. The worker drains through its own SIGTERM
    handling, and ends hard if that outlasts the grace.
    """
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace_seconds + WEBSOCKET_CLOSE_WAIT_SECONDS + ORPHAN_CHECK_SECONDS)
    os._exit(1)


class GracefulProcess(multiprocess.Process):
    """A worker that runs GracefulServer rather than uvicorn's Server, and ends with serve."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        self.parent_pid = os.getpid()
        super().__init__(config, sockets)

    def target(self, sockets: list[socket.socket] | None = None) -> None:
        grace = float(self.config.timeout_graceful_shutdown or 0)
        threading.Thread(
            target=_exit_with_parent, args=(self.parent_pid, grace), daemon=True
        ).start()
        super().target(sockets)

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = GracefulServer(config=self.config)
        return self._server


class Workers(multiprocess.Multiprocess):
    """uvicorn's supervisor, remembering that a worker failed to start: uvicorn then stops
    every worker but returns as if all went well, and serve would exit 0."""

    startup_failed = False

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        if any(process.exitcode == STARTUP_FAILURE for process in self.processes):
            self.startup_failed = True


def run(config: uvicorn.Config) -> None:
    if config.workers > 1:
        # The supervisor makes its workers from its module's Process class and takes no
        # other; the workers unpickle GracefulProcess by its own module, so they run ours.
        multiprocess.Process = GracefulProcess  # type: ignore[misc]
        sock = config.bind_socket()
        workers = Workers(config, sockets=[sock])
        workers.run()
        if workers.startup_failed:
            sys.exit(STARTUP_FAILURE)
        return
    server = GracefulServer(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

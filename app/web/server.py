"""uvicorn, as `python -m app serve` runs it: WebSockets told why at shutdown, exit 0 after.

This is `uvicorn.run` for our case (an import string, no reload), with our Server: uvicorn
has no hook before it closes WebSockets itself (1012, no reason), and it re-raises SIGTERM
after a graceful shutdown, which would end the process before it stops the store it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Iterator

import uvicorn
from uvicorn.server import HANDLED_SIGNALS
from uvicorn.supervisors import multiprocess

from app.web.traffic import close_all

STARTUP_FAILURE = 3
WEBSOCKET_CLOSE_WAIT_SECONDS = 5


class GracefulServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connections while the open ones are told to go
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


class GracefulProcess(multiprocess.Process):
    """A worker that runs GracefulServer rather than uvicorn's Server."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = GracefulServer(config=self.config)
        return self._server


def run(config: uvicorn.Config) -> None:
    if config.workers > 1:
        # The supervisor makes its workers from its module's Process class and takes no
        # other; the workers unpickle GracefulProcess by its own module, so they run ours.
        multiprocess.Process = GracefulProcess  # type: ignore[misc]
        sock = config.bind_socket()
        multiprocess.Multiprocess(config, sockets=[sock]).run()
        return
    server = GracefulServer(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

"""`serve` keeps the embedded store it started alive: a store that dies is started again on
the same data directory and port, so the workers' URIs stay valid and PyMongo reconnects.

A store that cannot come back ends `serve` (non-zero) rather than leaving the workers to
answer SERVICE_UNAVAILABLE forever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from app.store.embedded import EmbeddedStoreProcess

log = logging.getLogger("app.store.supervisor")

STORE_LOST_EXIT_CODE = 4
STABLE_AFTER_SECONDS = 60  # a restarted store that serves this long ends the crash episode
MAX_BACKOFF_SECONDS = 30


class StoreSupervisor:
    """Watches the store's process from a thread of `serve` and restarts it when it dies."""

    def __init__(
        self,
        store: EmbeddedStoreProcess,
        attempts: int,
        first_delay_seconds: float,
        on_give_up: Callable[[], None],
    ) -> None:
        self.store = store
        self.attempts = attempts
        self.first_delay = first_delay_seconds
        self.on_give_up = on_give_up
        self.gave_up = False
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> str:
        uri = self.store.start()
        # Restarts reuse the port the first start was given, so the workers' URI stays valid.
        self.store.port = urlsplit(uri).port or self.store.port
        assert self.store.process is not None
        log.info(
            "embedded store (pid %d) serving %s at %s",
            self.store.process.pid,
            self.store.data_dir,
            uri,
        )
        self._watcher = threading.Thread(target=self._watch, name="store-supervisor", daemon=True)
        self._watcher.start()
        return uri

    def stop(self) -> None:
        """An exit asked for, not a crash: the watcher lets the store go."""
        self._stopping.set()
        self.store.stop()  # wakes the watcher, whether it waits on the store or on a restart
        if self._watcher is not None:
            self._watcher.join()
        self.store.stop()  # one a restart had just started as stop() began

    def _watch(self) -> None:
        attempts_used = 0
        while not self._stopping.is_set():
            process = self.store.process
            assert process is not None
            started_at = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started_at >= STABLE_AFTER_SECONDS:
                attempts_used = 0
            log.error(
                "embedded store (pid %d) exited with code %s; restarting it on %s, port %d",
                process.pid,
                code,
                self.store.data_dir,
                self.store.port,
            )
            restarted = self._restart(attempts_used)
            if restarted is None:
                return
            attempts_used = restarted
            if attempts_used > self.attempts:
                self._give_up()
                return

    def _restart(self, attempts_so_far: int) -> int | None:
        """Start the store again, waiting longer before each try; the attempts used so far.

        Hand-written rather than tenacity (not a runtime dependency here): the wait must end
        at once when `serve` stops, and the count carries over while the store keeps dying.
        Returns None when `serve` is stopping, or attempts + 1 once every try has failed.
        """
        attempt = attempts_so_far
        while attempt < self.attempts:
            delay = min(self.first_delay * 2**attempt, MAX_BACKOFF_SECONDS)
            attempt += 1
            if self._stopping.wait(delay):
                return None
            try:
                self.store.start()
            except (RuntimeError, OSError) as exc:
                if self._stopping.is_set():
                    return None
                log.error("embedded store restart %d/%d failed: %s", attempt, self.attempts, exc)
                continue
            assert self.store.process is not None
            log.warning(
                "embedded store restarted (attempt %d/%d), pid %d at %s",
                attempt,
                self.attempts,
                self.store.process.pid,
                self.store.uri,
            )
            return attempt
        return self.attempts + 1

    def _give_up(self) -> None:
        self.gave_up = True
        log.critical(
            "embedded store could not be restarted after %d attempts; stopping serve "
            "(check %s: disk space, permissions, another process holding it)",
            self.attempts,
            self.store.data_dir,
        )
        self.on_give_up()

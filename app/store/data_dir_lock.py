"""One owner per data directory: the embedded store while it serves, or a restore.

SQLite locks single writes, not a whole server's use of the file; an flock on a file in
the directory is released by the kernel however its holder ends, so no stale lock remains.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

LOCK_FILE = "aayulink.lock"


class DataDirInUse(RuntimeError):
    def __init__(self, data_dir: Path, holder: str) -> None:
        super().__init__(
            f"{data_dir} is in use by a running store (pid {holder or 'unknown'}); stop it first"
        )


def take(data_dir: Path) -> IO[str]:
    """Hold the directory until the returned file is closed (or the process ends)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise DataDirInUse(data_dir, holder) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@contextlib.contextmanager
def holding(data_dir: Path) -> Iterator[None]:
    handle = take(data_dir)
    try:
        yield
    finally:
        handle.close()

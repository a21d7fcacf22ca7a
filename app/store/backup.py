"""Online backup and offline restore of the embedded store's SQLite file.

SQLite's backup API copies a consistent snapshot while the store keeps serving: a copy of
the file with `cp` could catch a write half done.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from app.store.data_dir_lock import holding

DATABASE_FILE = "aayulink.sqlite"
BUSY_TIMEOUT_SECONDS = 30


class BackupError(RuntimeError):
    pass


def database_path(data_dir: Path) -> Path:
    return data_dir / DATABASE_FILE


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    """Copy into a temporary file beside the target, check it, then move it into place."""
    partial = target_path.with_name(f".{target_path.name}.partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)  # pages=-1: the whole database in one step, one snapshot
        _check(target, partial)
    finally:
        target.close()
    os.replace(partial, target_path)


def _check(connection: sqlite3.Connection, path: Path) -> None:
    verdict = connection.execute("PRAGMA integrity_check").fetchone()
    if not verdict or verdict[0] != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {verdict}")


def back_up(data_dir: Path, destination: Path) -> int:
    """Copy the live store to `destination`; returns its size in bytes."""
    source_path = database_path(data_dir)
    if not source_path.is_file():
        raise BackupError(f"no embedded store at {source_path}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        _copy(source, destination)
    finally:
        source.close()
    return destination.stat().st_size


def restore_into(backup: Path, data_dir: Path) -> Path | None:
    """Replace the data directory's store with `backup`; refuses while a store holds it.

    The store it replaces is kept beside it; returns where, or None if there was none.
    """
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        try:
            _check(source, backup)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup} is not an SQLite backup: {exc}") from None
        with holding(data_dir):
            current = database_path(data_dir)
            kept: Path | None = None
            if current.is_file():
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                kept = current.with_name(f"{current.name}.before-restore-{stamp}")
                with contextlib.closing(sqlite3.connect(current)) as old:
                    _copy(old, kept)
            _copy(source, current)
            for leftover in ("-wal", "-shm", "-journal"):
                current.with_name(current.name + leftover).unlink(missing_ok=True)
            return kept
    finally:
        source.close()

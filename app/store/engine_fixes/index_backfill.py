"""Rebuild the SQLite engine's scalar index entries only when they may be stale (mongoeco 4.11).

Every time the engine opens its file it deletes and rebuilds the scalar index entries of
every document of every collection (`backfill_scalar_indexes_sync`, meant for files an
older version wrote): at 50,000 slots and as many appointments the store took over 30 s to
start, past the supervisor's wait, so `serve` could not start on a clinic's own data. The
engine maintains the entries in the same transaction as every write, so a file this
engine version last rebuilt, with the same indexes, needs no rebuild. A mark (the mongoeco
version and the index catalogue) is kept in a table of its own and written in the same
transaction as a rebuild; another version or another set of indexes rebuilds once more.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Callable
from typing import Any

import mongoeco
from mongoeco.engines.sqlite import SQLiteEngine

MARK_TABLE = "aayulink_engine_marks"
MARK_NAME = "scalar_index_entries"


def catalogue_signature(conn: sqlite3.Connection) -> str:
    rows = conn.execute(
        "SELECT db_name, coll_name, name, physical_name, fields, keys, unique_flag, sparse_flag,"
        " hidden_flag, collation_json, partial_filter_json, multikey_flag, scalar_physical_name"
        " FROM indexes ORDER BY db_name, coll_name, name"
    ).fetchall()
    return hashlib.sha256(repr((mongoeco.__version__, rows)).encode()).hexdigest()


def _physical_indexes_present(conn: sqlite3.Connection) -> bool:
    wanted = {
        name
        for (name,) in conn.execute("SELECT scalar_physical_name FROM indexes").fetchall()
        if name
    }
    present = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    return wanted <= present


def _mark(conn: sqlite3.Connection) -> str | None:
    row = conn.execute(f"SELECT value FROM {MARK_TABLE} WHERE name = ?", (MARK_NAME,)).fetchone()
    return None if row is None else str(row[0])


def mark_is_current(conn: sqlite3.Connection) -> bool:
    """Whether the entries were last rebuilt by this engine version for this catalogue."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {MARK_TABLE} (name TEXT PRIMARY KEY, value TEXT)")
    return _mark(conn) == catalogue_signature(conn) and _physical_indexes_present(conn)


def record_mark(conn: sqlite3.Connection) -> None:
    """Marks the entries current for the catalogue as it now stands (in the caller's
    transaction, so the mark commits with what it vouches for)."""
    conn.execute(
        f"INSERT OR REPLACE INTO {MARK_TABLE} (name, value) VALUES (?, ?)",
        (MARK_NAME, catalogue_signature(conn)),
    )


def only_when_stale(backfill: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(backfill)
    def wrapper(self: Any, conn: sqlite3.Connection) -> None:
        if mark_is_current(conn):
            return
        backfill(self, conn)
        record_mark(conn)

    return wrapper


def apply() -> None:
    SQLiteEngine._backfill_scalar_indexes_sync = only_when_stale(  # type: ignore[method-assign]
        SQLiteEngine._backfill_scalar_indexes_sync
    )

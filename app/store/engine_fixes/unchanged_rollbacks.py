"""A rolled-back write that changed nothing keeps the engine's caches (mongoeco 4.11).

A write the store refuses (a lease's upsert finding its holder: DuplicateKeyError) rolls
its scope back, and the engine then dropped the feature probes of *every* collection. The
sender's and housekeeping's leases are tried every second by each API process, so under a
rush most reads re-ran full scans: B12's store CPU per operation grew with the processes
(46 / 94 / 157 ms at 1 / 2 / 4). A scope that changed no row leaves the store as it was
(`sqlite3.Connection.total_changes` counts every row a statement or a trigger touched), so
`feature_cache` keeps its answers while such a rollback is under way.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from mongoeco.engines._sqlite_session_runtime import SQLiteSessionRuntime

_SCOPE_MARKS_ATTRIBUTE = "_aayulink_scope_changes"
_rolling_back = threading.local()


def under_way(engine: object) -> bool:
    """Whether this thread is rolling back a scope of `engine` that changed nothing."""
    return getattr(_rolling_back, "engine", None) is engine


def _scope_marks(runtime: Any, conn: sqlite3.Connection) -> list[int]:
    marks: dict[int, list[int]] = runtime.__dict__.setdefault(_SCOPE_MARKS_ATTRIBUTE, {})
    return marks.setdefault(id(conn), [])


def marking_scopes(begin: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(begin)
    def wrapper(self: Any, conn: sqlite3.Connection, context: Any) -> None:
        begin(self, conn, context)
        _scope_marks(self, conn).append(conn.total_changes)

    return wrapper


def unmarking_commits(commit: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(commit)
    def wrapper(self: Any, conn: sqlite3.Connection, context: Any) -> None:
        commit(self, conn, context)
        marks = _scope_marks(self, conn)
        if marks:
            marks.pop()

    return wrapper


def noting_unchanged(rollback: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(rollback)
    def wrapper(self: Any, conn: sqlite3.Connection, context: Any) -> None:
        marks = _scope_marks(self, conn)
        began = marks.pop() if marks else None
        if began is None or conn.total_changes != began:
            rollback(self, conn, context)
            return
        _rolling_back.engine = self._engine
        try:
            rollback(self, conn, context)
        finally:
            _rolling_back.engine = None

    return wrapper


def apply() -> None:
    SQLiteSessionRuntime.begin_write = marking_scopes(SQLiteSessionRuntime.begin_write)  # type: ignore[method-assign]
    SQLiteSessionRuntime.commit_write = unmarking_commits(SQLiteSessionRuntime.commit_write)  # type: ignore[method-assign]
    SQLiteSessionRuntime.rollback_write = noting_unchanged(SQLiteSessionRuntime.rollback_write)  # type: ignore[method-assign]

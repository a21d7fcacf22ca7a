"""The SQLite synchronous level the clinic chose, on every connection of the engine (mongoeco 4.11).

The engine opens its files in WAL mode with `synchronous=NORMAL` hard-coded in
`_create_sqlite_connection`: an acknowledged write survives a crash of the store process
but may be lost to a power cut or an OS crash. FULL syncs the WAL on every commit so it
survives those too, at a cost measured in docs/store.md.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any, Literal

from mongoeco.engines.sqlite import SQLiteEngine

SynchronousLevel = Literal["NORMAL", "FULL"]
_chosen: dict[str, SynchronousLevel] = {"level": "NORMAL"}


def choose(level: SynchronousLevel) -> None:
    """Applies to connections opened from now on; call before the engine connects."""
    if level not in ("NORMAL", "FULL"):
        raise ValueError(f"unknown SQLite synchronous level {level!r}")
    _chosen["level"] = level


def with_chosen_synchronous(
    create: Callable[..., sqlite3.Connection],
) -> Callable[..., sqlite3.Connection]:
    @functools.wraps(create)
    def wrapper(self: Any) -> sqlite3.Connection:
        connection = create(self)
        if self._path != ":memory:":
            try:
                connection.execute(f"PRAGMA synchronous={_chosen['level']}")
            except BaseException:
                connection.close()
                raise
        return connection

    return wrapper


def apply() -> None:
    SQLiteEngine._create_sqlite_connection = with_chosen_synchronous(  # type: ignore[method-assign]
        SQLiteEngine._create_sqlite_connection
    )

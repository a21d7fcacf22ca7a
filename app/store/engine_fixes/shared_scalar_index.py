"""Every Mongo index's scalar entries share one physical SQLite index (mongoeco 4.11).

The SQLite engine keeps one row per (document, single-field index) in the shared table
`scalar_index_entries`, and for each Mongo index it made a SQLite index of its own on that
table (`scidx_<hash>`), every one with the same columns, each covering the entries of all
indexes of all collections. The app's ~27 indexes made 27 identical b-trees that every
write of an indexed document updated: 1.1 GB of a 1.5 GB file at 50,000 slots and 50,000
appointments, and a fifth of each document's update in a 17,000-slot update_many. The
rows carry `index_name`, so one index over those columns serves every read the copies
served (the engine's reads always name the collection and the index first).

The fix, the least that keeps the engine's own code paths:

- `_physical_scalar_index_name` gives every index the one name, `SHARED_INDEX`; the
  catalogue stores it and every `INDEXED BY` names it.
- Creating an index: the engine's plain `CREATE INDEX` of that name would fail once it
  exists; the admin function is given an identifier quoting that makes it `CREATE INDEX
  IF NOT EXISTS`. Dropping an index, all of a collection's indexes, a collection or a
  database: the engine's `DROP INDEX IF EXISTS` of the shared name is pointed at a name
  that is never an index, so it drops nothing (the entries themselves are still deleted
  by the engine). A read naming a missing index fails ("no such index"), so the shared
  index is never dropped; with no entries left it costs nothing.
  In these admin functions the identifier quoting is used only for those CREATE/DROP
  INDEX statements (pinned by tests/test_engine_shared_scalar_index.py).
- Opening a file the unfixed engine wrote: in the open's own transaction, before the
  index entries are looked at, the shared index is made, the catalogue pointed at it
  and the per-index copies dropped. Every intermediate state is one the reads work in
  (copies named and present, or the shared one named and present). The names are not
  part of the entries, so when index_backfill's mark was current it is kept current.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

from mongoeco.engines import _sqlite_admin_runtime
from mongoeco.engines import sqlite as sqlite_module
from mongoeco.engines.sqlite import SQLiteEngine

from app.store.engine_fixes import index_backfill

SHARED_INDEX = "scidx_shared"
# The column list of every per-index copy the engine made (mongoeco 4.11).
SHARED_INDEX_COLUMNS = (
    "scalar_index_entries (collection_id, index_name, type_score, element_key, storage_key)"
)
# `DROP INDEX IF EXISTS` of this name is a no-op: no index is ever given it.
_NEVER_AN_INDEX = "scidx_shared_is_never_dropped"

_Quote = Callable[[str], str]


def _shared_name(self: Any, db_name: str, coll_name: str, index_name: str) -> str:
    """Replaces SQLiteEngine._physical_scalar_index_name: one name for every index."""
    return SHARED_INDEX


def _creating(quote: _Quote) -> _Quote:
    def quoted(name: str) -> str:
        return f"IF NOT EXISTS {quote(name)}" if name == SHARED_INDEX else quote(name)

    return quoted


def _dropping(quote: _Quote) -> _Quote:
    def quoted(name: str) -> str:
        return quote(_NEVER_AN_INDEX if name == SHARED_INDEX else name)

    return quoted


def _with_quoting(admin: Callable[..., Any], quoting: Callable[[_Quote], _Quote]) -> Any:
    """`admin` (one of mongoeco's index/namespace admin functions, which all take
    `quote_identifier` by keyword) with its index DDL seeing the shared name as above."""

    @functools.wraps(admin)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["quote_identifier"] = quoting(kwargs["quote_identifier"])
        return admin(*args, **kwargs)

    return wrapper


def per_index_copies(conn: sqlite3.Connection) -> list[str]:
    """The engine's per-index SQLite indexes on scalar_index_entries still in the file."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        " AND tbl_name = 'scalar_index_entries' AND name GLOB 'scidx_*' AND name != ?",
        (SHARED_INDEX,),
    ).fetchall()
    return [str(name) for (name,) in rows]


def migrate(conn: sqlite3.Connection) -> bool:
    """Points the catalogue at the shared index and drops the copies; whether it changed
    anything. The order keeps every step's state readable: the shared index exists before
    any index names it, and a copy is dropped only once no index names it."""
    conn.execute(f"CREATE INDEX IF NOT EXISTS {SHARED_INDEX} ON {SHARED_INDEX_COLUMNS}")
    renamed = conn.execute(
        "UPDATE indexes SET scalar_physical_name = ?"
        " WHERE scalar_physical_name IS NOT NULL AND scalar_physical_name != ?",
        (SHARED_INDEX, SHARED_INDEX),
    ).rowcount
    copies = per_index_copies(conn)
    for name in copies:
        conn.execute(f'DROP INDEX "{name}"')
    return bool(renamed or copies)


def _migrating_first(backfill: Callable[..., None]) -> Callable[..., None]:
    """Around index_backfill's wrapper of `_backfill_scalar_indexes_sync`, which the engine
    runs once per open, in the open's transaction, before the index caches are dropped."""

    @functools.wraps(backfill)
    def wrapper(self: Any, conn: sqlite3.Connection) -> None:
        entries_current = index_backfill.mark_is_current(conn)
        if migrate(conn) and entries_current:
            index_backfill.record_mark(conn)
        backfill(self, conn)

    return wrapper


def apply() -> None:
    """After index_backfill.apply(): the migration must run before its mark is checked."""
    if not hasattr(SQLiteEngine._backfill_scalar_indexes_sync, "__wrapped__"):
        raise RuntimeError("shared_scalar_index must be applied after index_backfill")
    SQLiteEngine._physical_scalar_index_name = _shared_name  # type: ignore[method-assign]
    SQLiteEngine._backfill_scalar_indexes_sync = _migrating_first(  # type: ignore[method-assign]
        SQLiteEngine._backfill_scalar_indexes_sync
    )
    sqlite_module._sqlite_create_index = _with_quoting(
        sqlite_module._sqlite_create_index, _creating
    )
    for name in ("_sqlite_drop_index", "_sqlite_drop_all_indexes", "_sqlite_drop_collection"):
        setattr(sqlite_module, name, _with_quoting(getattr(sqlite_module, name), _dropping))
    _sqlite_admin_runtime._sqlite_drop_database = _with_quoting(
        _sqlite_admin_runtime._sqlite_drop_database, _dropping
    )

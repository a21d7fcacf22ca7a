"""Keep the SQLite engine's per-field feature probes across writes (mongoeco 4.11).

The engine caches, per collection and field, whether the field ever holds an array, a
decimal, a float, mixed types... and plans every filter and unique check with them. Each
write dropped every entry of its collection, so the next operation re-ran them as full
scans: every write cost time in proportion to the collection.

A write can only turn a probe from "no" to "yes" (or a uniform type to mixed) through the
documents it writes. So the store's connection notes each written document in a temporary
table (a trigger on the engine's `documents` table catches every write path), and after
a write the cached answers still at "no" are re-asked of those documents only. A "yes"
stays: a deleted witness leaves the engine on its general, slower but always correct path.
Kinds of probe this module does not know are dropped, as before.

A refused write keeps the probes too (`unchanged_rollbacks`).
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable
from typing import Any

from mongoeco.core.codec import DocumentCodec
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.engines.sqlite_query import json_path_for_field, path_array_prefixes

from app.store.engine_fixes import unchanged_rollbacks

CHANGED_TABLE = "aayulink_written_documents"
_TRACKED_ATTRIBUTE = "_aayulink_tracked_connection"
_WRITES_ATTRIBUTE = "_aayulink_writes_refreshed"
_OPENED_AT_ATTRIBUTE = "_aayulink_opened_after_writes"

# The predicates below are mongoeco 4.11's probe queries (sqlite.py), asked of one document.
_Predicate = Callable[[str, str], str | None]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _path(field: str) -> str:
    return _literal(json_path_for_field(field))


def _tagged_type_path(field: str) -> str:
    return _literal(
        json_path_for_field(field) + f'."{DocumentCodec._MARKER}".{DocumentCodec._TYPE}'
    )


def _type_is(field: str, types: str) -> str:
    return f"json_type(document, {_path(field)}) IN ({types})"


def _traverses_array(field: str, _: str) -> str | None:
    prefixes = path_array_prefixes(field)
    return " OR ".join(_type_is(prefix, "'array'") for prefix in prefixes) or None


def _traverses_dbref(field: str, _: str) -> str | None:
    parts = field.split(".")
    prefixes = [".".join(parts[:length]) for length in range(1, len(parts))]
    return (
        " OR ".join(f"json_extract(document, {_tagged_type_path(p)}) = 'dbref'" for p in prefixes)
        or None
    )


def _tagged_type(field: str, value_type: str) -> str:
    return f"json_extract(document, {_tagged_type_path(field)}) = {_literal(value_type)}"


_EXPECTED = {"number": "'integer', 'real'", "string": "'text'", "bool": "'true', 'false'"}


def _comparison_mismatch(field: str, expected: str) -> str | None:
    allowed = _EXPECTED.get(expected)
    if allowed is None:
        return None
    path = _path(field)
    return (
        f"json_type(document, {path}) IS NOT NULL"
        f" AND json_type(document, {path}) NOT IN ({allowed})"
    )


def _scalar_or_array_mismatch(field: str, expected: str) -> str | None:
    allowed = _EXPECTED.get(expected)
    if allowed is None:
        return None
    path = _path(field)
    return (
        f"(json_type(document, {path}) IS NOT NULL"
        f" AND json_type(document, {path}) NOT IN ({allowed}, 'array'))"
        f" OR (json_type(document, {path}) = 'array' AND EXISTS ("
        f"SELECT 1 FROM json_each(document, {path}) WHERE json_each.type NOT IN ({allowed})))"
    )


# kind -> (how the rest of the key splits into field and argument, predicate of a "yes")
_EXISTS_PROBES: dict[str, tuple[bool, _Predicate]] = {
    "traverses_array": (False, _traverses_array),
    "traverses_dbref": (False, _traverses_dbref),
    "tagged_type": (True, _tagged_type),
    "top_level_array": (False, lambda field, _: _type_is(field, "'array'")),
    "contains_real_numeric": (False, lambda field, _: _type_is(field, "'real'")),
    "comparison_mismatch": (True, _comparison_mismatch),
    "scalar_or_array_comparison_mismatch": (True, _scalar_or_array_mismatch),
}
_UNIFORM_TYPES = {"number": "'integer', 'real'", "string": "'text'", "bool": "'true', 'false'"}
KNOWN_PROBE_KINDS = frozenset(
    {*_EXISTS_PROBES, "uniform_scalar_sort_type", "contains_non_ascii_text"}
)


def _written(conn: sqlite3.Connection, db: str, coll: str, predicate: str) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM temp.{CHANGED_TABLE}"
        f" WHERE db_name = ? AND coll_name = ? AND ({predicate}) LIMIT 1",
        (db, coll),
    ).fetchone()
    return row is not None


def _answer_after_write(
    conn: sqlite3.Connection, db: str, coll: str, probe: str, cached: bool | str
) -> bool | str | None:
    """The probe's answer over the collection now, given `cached` before; None: not known."""
    kind, _, rest = probe.partition(":")
    if kind == "uniform_scalar_sort_type":
        if cached is False:
            return False
        allowed = _UNIFORM_TYPES.get(str(cached))
        if allowed is None:
            return None
        path = _path(rest)
        mixed = (
            f"json_type(document, {path}) IS NULL OR json_type(document, {path}) NOT IN ({allowed})"
        )
        return False if _written(conn, db, coll, mixed) else cached
    if cached is True:
        return True
    if cached is not False:
        return None
    if kind == "contains_non_ascii_text":
        rows = conn.execute(
            f"SELECT json_extract(document, {_path(rest)}) FROM temp.{CHANGED_TABLE}"
            f" WHERE db_name = ? AND coll_name = ? AND {_type_is(rest, "'text'")}",
            (db, coll),
        ).fetchall()
        return any(isinstance(value, str) and not value.isascii() for (value,) in rows)
    known = _EXISTS_PROBES.get(kind)
    if known is None:
        return None
    has_argument, predicate_for = known
    field, argument = rest.rsplit(":", 1) if has_argument else (rest, "")
    predicate = predicate_for(field, argument)
    if predicate is None:
        return None
    return _written(conn, db, coll, predicate)


class _SnapshotAwareCache(dict[tuple[str, str, str], bool | str]):
    """Notes the answers a reader found on a snapshot that may predate a write already
    refreshed (a write began or ended since its connection opened): such an answer is kept
    only until its collection's next write (the engine's behaviour before this fix)."""

    def __init__(self, engine: SQLiteEngine, entries: dict[tuple[str, str, str], bool | str]):
        super().__init__(entries)
        self.engine = engine
        self.from_snapshot: set[tuple[str, str, str]] = set()

    def __setitem__(self, key: tuple[str, str, str], value: bool | str) -> None:
        engine = self.engine
        conn = getattr(engine._thread_local, "connection", None) or engine._connection
        opened_at = getattr(conn, _OPENED_AT_ATTRIBUTE, None)
        current = conn is getattr(engine, _TRACKED_ATTRIBUTE, None) or (
            opened_at is not None and opened_at == getattr(engine, _WRITES_ATTRIBUTE, 0)
        )
        if current:
            self.from_snapshot.discard(key)
        else:
            self.from_snapshot.add(key)
        super().__setitem__(key, value)

    def clear(self) -> None:
        self.from_snapshot.clear()
        super().clear()


def track_writes(engine: SQLiteEngine) -> None:
    """Install the write notes on the engine's store connection (after it has its tables)."""
    conn = engine._connection
    if conn is None:
        return
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {CHANGED_TABLE}"
        " (db_name TEXT, coll_name TEXT, document TEXT)"
    )
    for event in ("INSERT", "UPDATE"):
        conn.execute(
            f"CREATE TEMP TRIGGER IF NOT EXISTS aayulink_note_{event.lower()}"
            f" AFTER {event} ON main.documents BEGIN INSERT INTO {CHANGED_TABLE}"
            " VALUES (NEW.db_name, NEW.coll_name, NEW.document); END"
        )
    if conn.in_transaction:
        conn.commit()
    setattr(engine, _TRACKED_ATTRIBUTE, conn)
    state = engine._cache_state
    if not isinstance(state.collection_features_cache, _SnapshotAwareCache):
        state.collection_features_cache = _SnapshotAwareCache(
            engine, state.collection_features_cache
        )


def _refresh(engine: SQLiteEngine, conn: sqlite3.Connection, db: str, coll: str) -> None:
    cache = engine._collection_features_cache
    from_snapshot: set[tuple[str, str, str]] = getattr(cache, "from_snapshot", set())
    for key in [key for key in cache if key[0] == db and key[1] == coll]:
        answer = None
        if key not in from_snapshot:
            answer = _answer_after_write(conn, db, coll, key[2], cache[key])
        if answer is None:
            cache.pop(key, None)
            from_snapshot.discard(key)
        else:
            cache[key] = answer
    conn.execute(
        f"DELETE FROM temp.{CHANGED_TABLE} WHERE db_name = ? AND coll_name = ?", (db, coll)
    )


def refresh_instead_of_dropping(invalidate: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(invalidate)
    def wrapper(self: Any, db_name: str | None = None, coll_name: str | None = None) -> None:
        if unchanged_rollbacks.under_way(self):
            return  # the store is as it was: every answer still holds
        setattr(self, _WRITES_ATTRIBUTE, getattr(self, _WRITES_ATTRIBUTE, 0) + 1)
        tracked = getattr(self, _TRACKED_ATTRIBUTE, None)
        conn = getattr(self._thread_local, "connection", None) or self._connection
        if db_name is None or coll_name is None or tracked is None or conn is not tracked:
            invalidate(self, db_name, coll_name)
            return
        try:
            _refresh(self, conn, db_name, coll_name)
        except sqlite3.Error:
            invalidate(self, db_name, coll_name)  # dropping is always safe

    return wrapper


def stamping_snapshots(
    create: Callable[..., sqlite3.Connection],
) -> Callable[..., sqlite3.Connection]:
    @functools.wraps(create)
    def wrapper(self: Any) -> sqlite3.Connection:
        connection = create(self)
        main = self._connection
        if main is None or not main.in_transaction:  # else a write is under way: unstamped
            setattr(connection, _OPENED_AT_ATTRIBUTE, getattr(self, _WRITES_ATTRIBUTE, 0))
        return connection

    return wrapper


def tracking_after_connect(connect: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(connect)
    def wrapper(self: Any) -> None:
        connect(self)
        with self._lock, contextlib.suppress(sqlite3.Error):
            track_writes(self)  # untracked, writes drop the probes as before

    return wrapper


def apply() -> None:
    SQLiteEngine._invalidate_collection_features_cache = refresh_instead_of_dropping(  # type: ignore[method-assign]
        SQLiteEngine._invalidate_collection_features_cache
    )
    SQLiteEngine._connect_sync = tracking_after_connect(SQLiteEngine._connect_sync)  # type: ignore[method-assign]
    SQLiteEngine._create_sqlite_connection = stamping_snapshots(  # type: ignore[method-assign]
        SQLiteEngine._create_sqlite_connection
    )

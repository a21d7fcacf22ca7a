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

A refused write keeps the probes too (`unchanged_rollbacks`). Inside `deferred_refresh()`
(an update_many's batch, bulk_update.py) writes only note their collection, and the caller
refreshes each once with `refresh_now` before its transaction commits.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from mongoeco.engines.sqlite import SQLiteEngine

from app.store.engine_fixes import unchanged_rollbacks
from app.store.engine_fixes.probe_questions import (
    NonAsciiText,
    Question,
    probe_field,
    question_for,
)
from app.store.engine_fixes.update_fields import any_written, being_written

CHANGED_TABLE = "aayulink_written_documents"
_TRACKED_ATTRIBUTE = "_aayulink_tracked_connection"
_WRITES_ATTRIBUTE = "_aayulink_writes_refreshed"
_OPENED_AT_ATTRIBUTE = "_aayulink_opened_after_writes"
Written = dict[tuple[str, str], frozenset[str] | None]  # collection -> fields (None: any)
_DEFERRED: ContextVar[Written | None] = ContextVar("aayulink_deferred_probe_refresh", default=None)


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


# Cached probes asked of the written documents in one query (SQLite allows 2,000 columns).
_QUESTIONS_PER_QUERY = 200


def _refresh(
    engine: SQLiteEngine,
    conn: sqlite3.Connection,
    db: str,
    coll: str,
    fields: frozenset[str] | None = None,
) -> None:
    """Every cached answer of the collection about `fields` (None: any), re-asked of the
    documents written since the last refresh: one query for all of them, not one per probe
    (a per-document write of an update_many spent a fifth of its time on those queries). An
    update writing only `fields` left the documents' other fields as the answers found them."""
    cache = engine._collection_features_cache
    from_snapshot: set[tuple[str, str, str]] = getattr(cache, "from_snapshot", set())
    answers: dict[tuple[str, str, str], bool | str | None] = {}
    questions: list[tuple[tuple[str, str, str], Question]] = []
    for key in [key for key in cache if key[0] == db and key[1] == coll]:
        field = probe_field(key[2])  # None: a kind this module does not know, dropped below
        if key in from_snapshot:
            asked = None
        elif fields is not None and field is not None and not any_written(fields, [field]):
            continue
        else:
            asked = question_for(key[2], cache[key])
        if isinstance(asked, Question):
            questions.append((key, asked))
        elif isinstance(asked, NonAsciiText):
            answers[key] = _non_ascii_written(conn, db, coll, asked)
        else:
            answers[key] = asked
    for start in range(0, len(questions), _QUESTIONS_PER_QUERY):
        chunk = questions[start : start + _QUESTIONS_PER_QUERY]
        matched = _matched(conn, db, coll, (question.predicate for _, question in chunk))
        for (key, question), hit in zip(chunk, matched, strict=True):
            answers[key] = question.if_matched if hit else question.if_not
    for key, answer in answers.items():
        if answer is None:
            cache.pop(key, None)
            from_snapshot.discard(key)
        else:
            cache[key] = answer
    conn.execute(
        f"DELETE FROM temp.{CHANGED_TABLE} WHERE db_name = ? AND coll_name = ?", (db, coll)
    )


def _matched(conn: sqlite3.Connection, db: str, coll: str, predicates: Iterable[str]) -> list[bool]:
    columns = ", ".join(f"max(CASE WHEN ({p}) THEN 1 ELSE 0 END)" for p in predicates)
    row = conn.execute(
        f"SELECT {columns} FROM temp.{CHANGED_TABLE} WHERE db_name = ? AND coll_name = ?",
        (db, coll),
    ).fetchone()
    return [bool(value) for value in row]


def _non_ascii_written(conn: sqlite3.Connection, db: str, coll: str, probe: NonAsciiText) -> bool:
    value_sql, is_text = probe.selection()
    rows = conn.execute(
        f"SELECT {value_sql} FROM temp.{CHANGED_TABLE}"
        f" WHERE db_name = ? AND coll_name = ? AND {is_text}",
        (db, coll),
    ).fetchall()
    return any(isinstance(value, str) and not value.isascii() for (value,) in rows)


def refresh_instead_of_dropping(invalidate: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(invalidate)
    def wrapper(self: Any, db_name: str | None = None, coll_name: str | None = None) -> None:
        if unchanged_rollbacks.under_way(self):
            return  # the store is as it was: every answer still holds
        fields = being_written()
        deferred = _DEFERRED.get()
        if deferred is not None and db_name is not None and coll_name is not None:
            key = (db_name, coll_name)
            earlier = deferred.get(key, frozenset())
            deferred[key] = None if fields is None or earlier is None else earlier | fields
            return
        _refresh_or_drop(self, invalidate, db_name, coll_name, fields)

    return wrapper


def _refresh_or_drop(
    engine: Any,
    invalidate: Callable[..., None],
    db_name: str | None,
    coll_name: str | None,
    fields: frozenset[str] | None,
) -> None:
    setattr(engine, _WRITES_ATTRIBUTE, getattr(engine, _WRITES_ATTRIBUTE, 0) + 1)
    tracked = getattr(engine, _TRACKED_ATTRIBUTE, None)
    conn = getattr(engine._thread_local, "connection", None) or engine._connection
    if db_name is None or coll_name is None or tracked is None or conn is not tracked:
        invalidate(engine, db_name, coll_name)
        return
    try:
        _refresh(engine, conn, db_name, coll_name, fields)
    except sqlite3.Error:
        invalidate(engine, db_name, coll_name)  # dropping is always safe


@contextlib.contextmanager
def deferred_refresh(collections: Written) -> Iterator[None]:
    """Writes inside add their collection to `collections` instead of refreshing its probes;
    the caller makes them with `refresh_now`, and so does any step in between that reads
    probes a deferred write could have changed (`refresh_deferred`)."""
    token = _DEFERRED.set(collections)
    try:
        yield
    finally:
        _DEFERRED.reset(token)


def refresh_deferred(engine: SQLiteEngine) -> None:
    """The refreshes deferred so far in this context, made now (before a step that reads the
    probes about documents the deferring writes may have written)."""
    deferred = _DEFERRED.get()
    if deferred:
        refresh_now(engine, deferred)


def refresh_now(engine: SQLiteEngine, collections: Written) -> None:
    """The deferred refreshes, one per collection, on the writing connection."""
    dropping = SQLiteEngine._invalidate_collection_features_cache.__wrapped__  # type: ignore[attr-defined]
    for (db_name, coll_name), fields in sorted(collections.items()):
        _refresh_or_drop(engine, dropping, db_name, coll_name, fields)
    collections.clear()


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

"""Check a unique key through its SQLite index instead of reading every document (mongoeco 4.11).

For a single-field key the engine looks the value up in its own index table. For a
compound key, a numeric value, or a missing/null value it gives up
(`_unique_index_conflict_via_scalar_entries` answers None) and the caller deserialises
every document of the collection in Python, about 25 us each, on every insert and on
every update of a document that is in the index.

Every ordered index also has a physical SQLite index on the documents table over each
field's (tagged type, value) expressions. The wrapper asks that index for the documents
whose key equals the new one in SQL and confirms each candidate with the engine's own
comparison, the one its scan uses. It only does so where SQL equality cannot miss a
document MongoDB calls equal: strings, ObjectIds, and, when the collection holds no
tagged numbers or `undefined` at that field (the engine's cached probes say so),
booleans, integers, finite floats and null/missing. Anything else takes the engine's scan.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from mongoeco.core.paths import get_document_value
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.engines.sqlite_query import type_expression_sql, value_expression_sql
from mongoeco.engines.virtual_indexes import document_in_virtual_index

# Tagged values SQL equality would not match to a plain number or to null, though MongoDB does.
_AMBIGUOUS_TAGS = (
    "int32",
    "int64",
    "double",
    "decimal",
    "decimal128",
    "decimal128_public",
    "undefined",
)
_SAFE_INTEGER = 2**53


def sql_key_part(value: Any, found: bool) -> tuple[str, object, bool] | None:
    """(type tag, value, needs an unambiguous field) of a key value; None: SQL cannot decide."""
    if not found or value is None:
        return "", None, True
    if isinstance(value, str):
        return "", value, False
    if isinstance(value, ObjectId):
        return "objectid", str(value), False
    if isinstance(value, bool):
        return "", int(value), True
    if type(value) is int and abs(value) <= _SAFE_INTEGER:
        return "", value, True
    if type(value) is float and math.isfinite(value):
        return "", value, True
    return None


def holds_tagged_values(engine: Any, db_name: str, coll_name: str, field: str) -> bool:
    """Whether the collection holds, at `field`, a tagged number or `undefined` (the cached
    probes say): then SQL equality on the index could miss a value MongoDB calls equal."""
    return any(
        engine._field_contains_tagged_value_type_in_collection(db_name, coll_name, field, tag)
        for tag in _AMBIGUOUS_TAGS
    )


def _conflict_by_physical_index(
    engine: Any,
    conn: sqlite3.Connection,
    collection_id: int,
    index: dict[str, Any],
    document: dict[str, Any],
    exclude_storage_key: str | None,
) -> bool | None:
    physical_name = index.get("physical_name")
    if not physical_name or index.get("collation") is not None:
        return None
    namespace = conn.execute(
        "SELECT db_name, coll_name FROM collections WHERE collection_id = ?", (collection_id,)
    ).fetchone()
    if namespace is None:
        return None
    db_name, coll_name = namespace
    clauses: list[str] = []
    params: list[object] = [db_name, coll_name]
    for field in index["fields"]:
        found, value = get_document_value(document, field)
        part = sql_key_part(value, found)
        if part is None:
            return None
        tag, sql_value, needs_unambiguous_field = part
        if needs_unambiguous_field and holds_tagged_values(engine, db_name, coll_name, field):
            return None
        clauses.append(f"{type_expression_sql(field)} = ? AND {value_expression_sql(field)} IS ?")
        params += [tag, sql_value]
    index_name = engine._quote_identifier(str(physical_name))
    rows = conn.execute(
        f"SELECT storage_key, document FROM documents INDEXED BY {index_name}"
        f" WHERE db_name = ? AND coll_name = ? AND {' AND '.join(clauses)}",
        tuple(params),
    ).fetchall()
    key = tuple(engine._index_value(document, field) for field in index["fields"])
    for storage_key, payload in rows:
        if storage_key == exclude_storage_key:
            continue
        existing = engine._deserialize_document(payload)
        if not document_in_virtual_index(existing, index):
            continue
        if tuple(engine._index_value(existing, field) for field in index["fields"]) == key:
            return True
    return False


def through_the_physical_index(check: Callable[..., bool | None]) -> Callable[..., bool | None]:
    @functools.wraps(check)
    def wrapper(
        self: Any,
        conn: sqlite3.Connection,
        collection_id: int | None,
        index: Any,
        document: Any,
        *,
        exclude_storage_key: str | None,
    ) -> bool | None:
        answer = check(
            self, conn, collection_id, index, document, exclude_storage_key=exclude_storage_key
        )
        if answer is not None or collection_id is None:
            return answer
        try:
            return _conflict_by_physical_index(
                self, conn, collection_id, index, document, exclude_storage_key
            )
        except sqlite3.OperationalError:
            return None  # e.g. the physical index is gone: the engine's scan decides

    return wrapper


def apply() -> None:
    SQLiteEngine._unique_index_conflict_via_scalar_entries = through_the_physical_index(  # type: ignore[method-assign]
        SQLiteEngine._unique_index_conflict_via_scalar_entries
    )

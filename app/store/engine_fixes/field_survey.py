"""A field's cold feature probes answered in one scan, not one scan each (mongoeco 4.11,
SQLite engine).

To plan a filter the engine asks, per field, whether any document holds a decimal there
(three tags: `decimal`, `decimal128`, `decimal128_public`), bytes or `undefined` (two more
tags), an array, or a float: seven questions, each a query that reads every document of
the collection when the answer is no, as it nearly always is. After a restart, or on a
collection nobody has queried yet, that was most of the store's time (B1 beside 50,000
slots: 49% of the store's samples in the tag probe alone). The first of these questions
about a field now reads the collection once and answers all seven with the engine's own
tests; any other question is asked as before. The answers are kept and refreshed like the
engine's (feature_cache.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from mongoeco.core.codec import DocumentCodec
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.engines.sqlite_query import json_path_for_field

# Every tag mongoeco 4.11's planner asks `_field_contains_tagged_value_type_in_collection`.
TAGS = ("decimal", "decimal128", "decimal128_public", "bytes", "undefined")


def _survey(engine: SQLiteEngine, db_name: str, coll_name: str, field: str) -> None:
    """One scan: the seven answers for `field`, into the engine's cache."""
    path = json_path_for_field(field)
    tag_path = path + f'."{DocumentCodec._MARKER}".{DocumentCodec._TYPE}'
    array, real, tags = (
        engine._require_connection()
        .execute(
            """
            SELECT max(json_type(document, ?) = 'array'),
                   max(json_type(document, ?) = 'real'),
                   group_concat(DISTINCT json_extract(document, ?))
            FROM documents
            WHERE db_name = ? AND coll_name = ?
            """,
            (path, path, tag_path, db_name, coll_name),
        )
        .fetchone()
    )
    found = set(str(tags).split(",")) if tags is not None else set()
    cache = engine._collection_features_cache
    for tag in TAGS:
        cache[(db_name, coll_name, f"tagged_type:{field}:{tag}")] = tag in found
    cache[(db_name, coll_name, f"top_level_array:{field}")] = bool(array)
    cache[(db_name, coll_name, f"contains_real_numeric:{field}")] = bool(real)


def _surveyed(kind: str, probe: Callable[..., bool]) -> Callable[..., bool]:
    @functools.wraps(probe)
    def wrapper(self: SQLiteEngine, db_name: str, coll_name: str, field: str, *arg: str) -> bool:
        if kind == "tagged_type" and (len(arg) != 1 or arg[0] not in TAGS):
            return probe(self, db_name, coll_name, field, *arg)
        key = (db_name, coll_name, ":".join((kind, field, *arg)))
        cache = self._collection_features_cache
        if key not in cache:
            _survey(self, db_name, coll_name, field)
        return bool(cache[key])

    return wrapper


def apply() -> None:
    SQLiteEngine._field_contains_tagged_value_type_in_collection = _surveyed(  # type: ignore[method-assign]
        "tagged_type", SQLiteEngine._field_contains_tagged_value_type_in_collection
    )
    SQLiteEngine._field_is_top_level_array_in_collection = _surveyed(  # type: ignore[method-assign]
        "top_level_array", SQLiteEngine._field_is_top_level_array_in_collection
    )
    SQLiteEngine._field_contains_real_numeric_in_collection = _surveyed(  # type: ignore[method-assign]
        "contains_real_numeric", SQLiteEngine._field_contains_real_numeric_in_collection
    )

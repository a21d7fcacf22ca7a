"""An update that can change no unique key skips the engine's unique check (mongoeco 4.11,
SQLite engine).

The engine checks every updated document against every unique index of its collection,
whatever the update changed. A document already stored holds keys no other document holds,
so a unique index cannot refuse it when the update writes none of the index's fields nor
of its partial filter (its keys and its membership stay as they were), or when the
document as updated is not in the index at all (a slot removed leaves `slot_key_unique`).
Anything update_fields.py cannot read as a classic update (a replacement, a pipeline, an
upsert) is checked as before.

The check is also the only step of an update that reads the feature probes about other
documents: before one runs, the refreshes an update_many's batch deferred are made
(feature_cache.refresh_deferred).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.engines.virtual_indexes import document_in_virtual_index

from app.store.engine_fixes import feature_cache
from app.store.engine_fixes.update_fields import any_written, being_written

_LOGICAL = ("$and", "$or", "$nor")


def _filter_fields(expression: object) -> Iterable[str]:
    if not isinstance(expression, Mapping):
        return
    for key, value in expression.items():
        if key in _LOGICAL and isinstance(value, list):
            for clause in value:
                yield from _filter_fields(clause)
        elif isinstance(key, str) and not key.startswith("$"):
            yield key


def may_refuse(index: Any, paths: frozenset[str], document: Any) -> bool:
    """Whether `index` could refuse a stored document updated by writing `paths` only."""
    if not getattr(index, "unique", False):
        return False
    fields = [*index.fields, *_filter_fields(index.partial_filter_expression)]
    if not any_written(paths, fields):
        return False
    if index.partial_filter_expression is None and not index.sparse:
        return True
    return bool(document_in_virtual_index(document, index))


def _skipped_when_no_key_can_clash(validate: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(validate)
    def wrapper(self: SQLiteEngine, db_name: str, coll_name: str, document: Any, **kw: Any) -> None:
        paths = being_written()
        if (
            paths is not None
            and kw.get("exclude_storage_key") is not None
            and not any(
                may_refuse(index, paths, document)
                for index in self._load_indexes(db_name, coll_name)
            )
        ):
            return
        feature_cache.refresh_deferred(self)
        validate(self, db_name, coll_name, document, **kw)

    return wrapper


def apply() -> None:
    SQLiteEngine._validate_document_against_unique_indexes = _skipped_when_no_key_can_clash(  # type: ignore[method-assign]
        SQLiteEngine._validate_document_against_unique_indexes
    )

"""The fields the update under way writes (mongoeco 4.11, SQLite engine): two fixes use them.

A wrapper around the engine's per-document update notes, for its duration, the top-level
paths a classic update sets, unsets or renames (`being_written()`): None for anything else
(an insert, a replacement, a pipeline, an upsert), which the fixes treat as "any field".
- untouched_unique_keys.py skips the unique check when no unique index's fields are written;
- feature_cache.py re-asks only the probes of written fields: a document's other fields
  are as they were when its last write refreshed the answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from mongoeco.engines.sqlite import SQLiteEngine

_WRITING: ContextVar[frozenset[str] | None] = ContextVar("aayulink_fields_written", default=None)


def _stem(path: str) -> str:
    """The path up to its first positional or numeric part: `a.$[x].b` and `a.0.b` write `a`."""
    kept: list[str] = []
    for part in path.split("."):
        if part.startswith("$") or part.isdigit():
            break
        kept.append(part)
    return ".".join(kept)


def updated_paths(update_spec: object) -> frozenset[str] | None:
    """The fields a classic update writes, or None when the update is not one."""
    if not isinstance(update_spec, Mapping) or not update_spec:
        return None
    paths: set[str] = set()
    for operator, fields in update_spec.items():
        if not isinstance(operator, str) or not operator.startswith("$"):
            return None
        if not isinstance(fields, Mapping):
            return None
        for path, value in fields.items():
            paths.add(_stem(str(path)))
            if operator == "$rename":
                if not isinstance(value, str):
                    return None
                paths.add(_stem(value))
    return frozenset(paths)


def overlaps(path: str, field: str) -> bool:
    """Writing `path` may change `field`: the same, one inside the other, or the whole document."""
    return (
        path == "" or path == field or field.startswith(path + ".") or path.startswith(field + ".")
    )


def any_written(paths: frozenset[str] | None, fields: Iterable[str]) -> bool:
    """None (not known) writes every field."""
    return paths is None or any(overlaps(p, f) for p in paths for f in fields)


def fields_of(operation: Any, upsert: bool, replacement_document: object) -> frozenset[str] | None:
    if upsert or replacement_document is not None:
        return None
    paths = updated_paths(getattr(operation, "update_spec", None))
    return None if paths is None or "_id" in paths else paths


def being_written() -> frozenset[str] | None:
    """The paths of the per-document update running in this context, or None."""
    return _WRITING.get()


def _noting_fields(update: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(update)
    def wrapper(
        self: SQLiteEngine,
        db_name: str,
        coll_name: str,
        operation: Any,
        upsert: bool,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        replacement = kwargs.get("replacement_document", args[5] if len(args) > 5 else None)
        token = _WRITING.set(fields_of(operation, upsert, replacement))
        try:
            return update(self, db_name, coll_name, operation, upsert, *args, **kwargs)
        finally:
            _WRITING.reset(token)

    return wrapper


def apply() -> None:
    SQLiteEngine._update_with_operation_sync = _noting_fields(  # type: ignore[method-assign]
        SQLiteEngine._update_with_operation_sync
    )

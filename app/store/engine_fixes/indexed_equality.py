"""An equality on an indexed field reads through its SQLite index (mongoeco 4.11).

The engine keeps, for every ordered index, a physical SQLite index on the documents table
over each field's (tagged type, value) expressions, but its translation of an equality
rarely matches those expressions: a boolean becomes `json_type(...) IN ('true', 'false')
AND json_extract(...) = ?`, and a field whose index is marked multikey (the engine marks
some on creation, arrays or not) gets `OR EXISTS (... multikey_entries ...)`. SQLite then
reads and decodes every document of the collection: a patient's live locks (booleans on the
sparse `live_locks` index) took 25 ms at 3,000 slots and grew with them, and queued every
other command of a booking rush behind it.

The wrapper ANDs the index's own expressions, `type = ? AND value = ?`, onto the engine's
translation, which stays and decides. That added term must hold for every document the
equality matches, so it is only added where SQL equality cannot miss one (the values
`unique_index` checks by the same index) and where the cached probes say the field never
holds or traverses an array in the collection.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mongoeco.core.query_plan import EqualsCondition
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.engines.sqlite_query import type_expression_sql, value_expression_sql

from app.store.engine_fixes.unique_index import holds_tagged_values, sql_key_part

_Translate = Callable[..., tuple[str, list[object]]]


def _has_physical_index_on(engine: Any, db_name: str, coll_name: str, field: str) -> bool:
    return any(
        index.get("physical_name")
        and index.get("collation") is None
        and list(index.get("fields") or ())[:1] == [field]
        for index in engine._load_indexes(db_name, coll_name)
    )


def _index_terms(
    engine: Any, db_name: str, coll_name: str, plan: EqualsCondition
) -> tuple[str, list[object]] | None:
    """The index's expressions for `plan`'s value, or None where they could miss a match."""
    field = plan.field
    if field == "_id" or plan.value is None:
        return None
    part = sql_key_part(plan.value, True)
    if part is None:
        return None
    tag, value, needs_unambiguous_field = part
    if not _has_physical_index_on(engine, db_name, coll_name, field):
        return None
    if engine._field_is_top_level_array_in_collection(
        db_name, coll_name, field
    ) or engine._field_traverses_array_in_collection(db_name, coll_name, field):
        return None
    # Only booleans equal a boolean, and a boolean is never tagged: no probe to ask. A number
    # may equal a tagged one (Int64, Decimal128), which SQL equality would miss.
    if (
        needs_unambiguous_field
        and not isinstance(plan.value, bool)
        and holds_tagged_values(engine, db_name, coll_name, field)
    ):
        return None
    return f"{type_expression_sql(field)} = ? AND {value_expression_sql(field)} = ?", [tag, value]


def _through_the_index(translate: _Translate) -> _Translate:
    @functools.wraps(translate)
    def wrapper(self: Any, db_name: str, coll_name: str, plan: Any) -> tuple[str, list[object]]:
        sql, params = translate(self, db_name, coll_name, plan)
        if not isinstance(plan, EqualsCondition):
            return sql, params
        terms = _index_terms(self, db_name, coll_name, plan)
        if terms is None:
            return sql, params
        return f"({terms[0]}) AND ({sql})", [*terms[1], *params]

    return wrapper


def apply() -> None:
    SQLiteEngine._translate_query_plan_with_multikey = _through_the_index(  # type: ignore[method-assign]
        SQLiteEngine._translate_query_plan_with_multikey
    )

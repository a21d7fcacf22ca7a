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

Under the same conditions an `$in` becomes `type = ? AND value IN (...)` per type tag, in
place of the engine's translation: an OR of an equality and an array test per value, which
read the whole collection, and then, with the index term ANDed on, still re-read every
candidate's JSON once per value (100 doctors' day: 70 ms at 1,000 slots, 150 ms at 50,000;
through the index alone, see tests/test_engine_fixes.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mongoeco.core.query_plan import EqualsCondition, InCondition
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


def _indexed_scalars(engine: Any, db_name: str, coll_name: str, field: str) -> bool:
    """The field has the index's physical expressions, and never holds or traverses an array."""
    if field == "_id" or not _has_physical_index_on(engine, db_name, coll_name, field):
        return False
    return not (
        engine._field_is_top_level_array_in_collection(db_name, coll_name, field)
        or engine._field_traverses_array_in_collection(db_name, coll_name, field)
    )


def _key(engine: Any, db_name: str, coll_name: str, field: str, value: object) -> Any:
    """The index's (type tag, value) for `value`, or None where SQL equality could miss one."""
    if value is None:
        return None
    part = sql_key_part(value, True)
    if part is None:
        return None
    tag, key, needs_unambiguous_field = part
    # Only booleans equal a boolean, and a boolean is never tagged: no probe to ask. A number
    # may equal a tagged one (Int64, Decimal128), which SQL equality would miss.
    if (
        needs_unambiguous_field
        and not isinstance(value, bool)
        and holds_tagged_values(engine, db_name, coll_name, field)
    ):
        return None
    return tag, key


def _index_terms(
    engine: Any, db_name: str, coll_name: str, plan: EqualsCondition
) -> tuple[str, list[object]] | None:
    """The index's expressions for `plan`'s value, or None where they could miss a match."""
    if not _indexed_scalars(engine, db_name, coll_name, plan.field):
        return None
    key = _key(engine, db_name, coll_name, plan.field, plan.value)
    if key is None:
        return None
    field = plan.field
    return f"{type_expression_sql(field)} = ? AND {value_expression_sql(field)} = ?", list(key)


def _membership_terms(
    engine: Any, db_name: str, coll_name: str, plan: InCondition
) -> tuple[str, list[object]] | None:
    """The index's expressions for every value of an `$in`: per type tag, one `IN` list that
    SQLite reads through the index (the engine's own OR of per-value equalities, each with an
    array test, read the whole collection: 70 ms for 100 doctors' day at 1,000 slots)."""
    if not plan.values or not _indexed_scalars(engine, db_name, coll_name, plan.field):
        return None
    by_tag: dict[object, list[object]] = {}
    for value in plan.values:
        key = _key(engine, db_name, coll_name, plan.field, value)
        if key is None:
            return None
        by_tag.setdefault(key[0], []).append(key[1])
    type_sql, value_sql = type_expression_sql(plan.field), value_expression_sql(plan.field)
    clauses, params = [], []
    for tag, values in by_tag.items():
        clauses.append(f"({type_sql} = ? AND {value_sql} IN ({', '.join('?' * len(values))}))")
        params += [tag, *values]
    return " OR ".join(clauses), params


def _through_the_index(translate: _Translate) -> _Translate:
    @functools.wraps(translate)
    def wrapper(self: Any, db_name: str, coll_name: str, plan: Any) -> tuple[str, list[object]]:
        if isinstance(plan, InCondition):
            # Instead of the engine's translation, not built at all: its per-value clauses,
            # re-read from each candidate document's JSON, cost 0.6 ms a value.
            terms = _membership_terms(self, db_name, coll_name, plan)
            return terms if terms is not None else translate(self, db_name, coll_name, plan)
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

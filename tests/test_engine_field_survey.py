"""A field's cold probes answered in one scan give the engine's own answers
(app/store/engine_fixes/field_survey.py). In process, on the real engine: the probes'
cache lives inside the store, where a wire client cannot see it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mongoeco
from bson import Binary, Decimal128
from mongoeco.engines.sqlite import SQLiteEngine

from app.store.engine_fixes import apply_engine_fixes
from app.store.engine_fixes.field_survey import TAGS

FIELDS = ["d", "f", "a", "n", "b", "r", "o.p", "o.q", "s", "missing"]


def _answers(engine: SQLiteEngine, field: str, own: bool) -> dict[str, bool]:
    """Each of the seven questions about `field` on a cold cache: through the fix, or
    through the engine's own queries (the functions it wraps)."""
    tagged = SQLiteEngine._field_contains_tagged_value_type_in_collection
    array = SQLiteEngine._field_is_top_level_array_in_collection
    real = SQLiteEngine._field_contains_real_numeric_in_collection
    if own:
        tagged, array, real = tagged.__wrapped__, array.__wrapped__, real.__wrapped__  # type: ignore[attr-defined]
    answers: dict[str, bool] = {}
    for tag in TAGS:
        engine._collection_features_cache.clear()
        answers[tag] = tagged(engine, "survey", "c", field, tag)
    engine._collection_features_cache.clear()
    answers["array"] = array(engine, "survey", "c", field)
    engine._collection_features_cache.clear()
    answers["real"] = real(engine, "survey", "c", field)
    return answers


def test_a_fields_survey_answers_as_the_engines_own_probes(tmp_path: Path) -> None:
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "survey.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["survey"]["c"]
    shapes: list[dict[str, Any]] = [
        {"d": Decimal128("1.5"), "f": 1.5, "a": [1, 2], "n": 1, "b": Binary(b"x", 0), "r": b"x"},
        {"d": 2, "f": 2, "a": 3, "n": 2, "o": {"p": 2.5, "q": [1]}, "s": "text"},
        {"d": Decimal128("3"), "o": {"p": Decimal128("1")}, "s": ["a"]},
    ]
    coll.insert_many(shapes)
    surveyed = {field: _answers(engine, field, own=False) for field in FIELDS}
    assert surveyed == {field: _answers(engine, field, own=True) for field in FIELDS}
    assert surveyed["d"]["decimal128_public"] and surveyed["r"]["bytes"]
    assert surveyed["a"]["array"] and surveyed["f"]["real"] and surveyed["o.p"]["real"]
    assert not any(surveyed["missing"].values())
    client.close()


def test_planning_a_filter_surveys_each_field_once(tmp_path: Path) -> None:
    """After one cold find on three fields, each has all seven answers cached."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "plan.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["survey"]["c"]
    coll.insert_many([{"x": i, "y": f"v{i}", "z": i % 2 == 0} for i in range(50)])
    engine._collection_features_cache.clear()
    assert coll.count_documents({"x": {"$gte": 10}, "y": {"$lt": "v3"}, "z": True}) > 0
    cached = {key[2] for key in engine._collection_features_cache if key[1] == "c"}
    for field in ("x", "y"):
        assert {f"tagged_type:{field}:{tag}" for tag in TAGS} <= cached, field
        assert {f"top_level_array:{field}", f"contains_real_numeric:{field}"} <= cached
    client.close()

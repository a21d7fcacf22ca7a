"""Updates that skip the unique check, and update_many's once-a-batch probe refresh, keep
MongoDB's answers (app/store/engine_fixes/update_fields.py, untouched_unique_keys.py,
feature_cache.py, bulk_update.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mongoeco
import pytest
import pytest_asyncio
from bson import ObjectId
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.store.engine_fixes import apply_engine_fixes, feature_cache
from app.store.engine_fixes.bulk_update import BATCH_DOCUMENTS
from app.store.engine_fixes.update_fields import updated_paths

Doc = dict[str, Any]


@pytest_asyncio.fixture
async def database(engine_uri: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(engine_uri)
    yield client[f"update_fields_{ObjectId()}"]
    await client.close()


@pytest_asyncio.fixture
async def live_keys(database: Any) -> AsyncCollection[Doc]:
    """`key` unique among the documents that are `live`, as a slot's key among live slots."""
    found: AsyncCollection[Doc] = database["live_keys"]
    await found.create_index("key", unique=True, partialFilterExpression={"live": True})
    return found


def test_what_an_update_writes() -> None:
    assert updated_paths({"$set": {"a.b": 1, "c": 2}, "$unset": {"d": ""}}) == {"a.b", "c", "d"}
    assert updated_paths({"$set": {"items.0.code": 1, "tags.$[t].n": 2}}) == {"items", "tags"}
    assert updated_paths({"$rename": {"old": "new"}}) == {"old", "new"}
    assert updated_paths({"whole": "replacement"}) is None
    assert updated_paths([{"$set": {"a": 1}}]) is None


async def test_joining_a_partial_unique_index_is_still_refused(
    live_keys: AsyncCollection[Doc],
) -> None:
    """The update writes no key, only the partial filter's field: the document joins."""
    await live_keys.insert_many(
        [{"key": "a", "live": True}, {"key": "a", "live": False, "n": 1}, {"key": "b", "n": 2}]
    )
    with pytest.raises(DuplicateKeyError):
        await live_keys.update_one({"n": 1}, {"$set": {"live": True}})
    with pytest.raises(DuplicateKeyError):
        await live_keys.update_many({"n": 1}, {"$set": {"live": True}})
    assert await live_keys.count_documents({"key": "a", "live": True}) == 1
    joined = await live_keys.update_many({"n": 2}, {"$set": {"live": True}})
    assert joined.modified_count == 1


async def test_leaving_a_partial_unique_index_frees_its_key(
    live_keys: AsyncCollection[Doc],
) -> None:
    await live_keys.insert_many([{"key": f"k{i}", "live": True} for i in range(5)])
    left = await live_keys.update_many({}, {"$set": {"live": False, "left": True}})
    assert left.modified_count == 5
    await live_keys.insert_many([{"key": f"k{i}", "live": True} for i in range(5)])
    assert await live_keys.count_documents({"key": "k3"}) == 2


async def test_renaming_or_setting_into_a_unique_field_is_still_refused(database: Any) -> None:
    codes: AsyncCollection[Doc] = database["codes"]
    await codes.create_index("code", unique=True, sparse=True)
    await codes.create_index("items.sku", unique=True, sparse=True)
    await codes.insert_many(
        [
            {"code": "x", "items": [{"sku": "s1"}]},
            {"other": "x", "items": [{"sku": "s2"}], "n": 1},
        ]
    )
    with pytest.raises(DuplicateKeyError):
        await codes.update_one({"n": 1}, {"$rename": {"other": "code"}})
    with pytest.raises(DuplicateKeyError):
        await codes.update_one({"n": 1}, {"$set": {"items.0.sku": "s1"}})
    with pytest.raises(DuplicateKeyError):
        await codes.update_many({"n": 1}, {"$set": {"code": "x"}})
    assert await codes.find_one({"n": 1}, {"_id": 0}) == {
        "other": "x",
        "items": [{"sku": "s2"}],
        "n": 1,
    }


async def test_an_update_many_writing_arrays_is_found_by_element_queries(database: Any) -> None:
    """Three batches of documents first made arrays: the probes refreshed once a batch must
    still tell the planner that `tags` now holds arrays."""
    tagged: AsyncCollection[Doc] = database["tagged"]
    await tagged.create_index("tags")
    count = 2 * BATCH_DOCUMENTS + 50
    await tagged.insert_many([{"n": i, "tags": "none"} for i in range(count)])
    assert await tagged.count_documents({"tags": "x"}) == 0
    done = await tagged.update_many({"n": {"$gte": 10}}, {"$set": {"tags": ["x", "y"]}})
    assert done.modified_count == count - 10
    assert await tagged.count_documents({"tags": "x"}) == count - 10
    assert await tagged.count_documents({"tags": "none"}) == 10


async def test_a_unique_check_after_deferred_writes_sees_them(database: Any) -> None:
    """As on MongoDB: the batch's first document takes the key as the collection's first
    array, and the second clashes with that array's element, written in the same batch (the
    probes the deferred refresh owes are refreshed before the check runs)."""
    keyed: AsyncCollection[Doc] = database["keyed"]
    await keyed.create_index("k", unique=True, sparse=True)
    await keyed.insert_many([{"n": 0, "g": 1}, {"n": 1, "g": 1}, {"k": "solo"}])
    with pytest.raises(DuplicateKeyError):
        await keyed.update_many({"g": 1}, {"$set": {"k": ["dup", "x"]}})
    assert await keyed.count_documents({"k": "dup"}) == 1


def test_an_update_many_refreshes_the_probes_once_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, on the real engine: the refreshes are counted where they run."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "refreshes.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["refreshes"]["c"]
    coll.create_index([("ward", 1)])
    coll.create_index([("key", 1)], unique=True, partial_filter_expression={"live": True})
    coll.insert_many(
        [{"n": i, "ward": "a", "key": f"k{i}", "live": True} for i in range(3 * BATCH_DOCUMENTS)]
    )
    assert coll.count_documents({"ward": "a", "n": {"$gte": 0}}) == 3 * BATCH_DOCUMENTS
    refreshes: list[frozenset[str] | None] = []
    refresh = feature_cache._refresh

    def counted(*args: Any) -> None:
        refreshes.append(args[4] if len(args) > 4 else None)
        refresh(*args)

    monkeypatch.setattr(feature_cache, "_refresh", counted)
    done = coll.update_many({"ward": "a"}, {"$set": {"seen": 1, "live": False}})
    assert done.modified_count == 3 * BATCH_DOCUMENTS
    assert refreshes == [frozenset({"seen", "live"})] * 3
    assert coll.count_documents({"seen": 1}) == 3 * BATCH_DOCUMENTS
    client.close()


def test_an_unknown_probe_is_dropped_after_an_update_of_other_fields(tmp_path: Path) -> None:
    """Only known probes can be kept for fields an update did not write: a kind of probe
    feature_cache does not know is dropped after any write, as the engine drops them."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "unknown.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["unknown"]["c"]
    coll.insert_many([{"n": i, "x": 1} for i in range(3)])
    assert coll.count_documents({"x": 1}) == 3
    mystery = ("unknown", "c", "a_kind_of_a_later_release:x")
    engine._collection_features_cache[mystery] = False
    coll.update_one({"n": 1}, {"$set": {"y": 2}})
    assert mystery not in engine._collection_features_cache
    assert ("unknown", "c", "top_level_array:x") in engine._collection_features_cache
    client.close()

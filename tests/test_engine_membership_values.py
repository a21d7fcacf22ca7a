"""An `$in` list prepared once keeps MongoDB's answers (engine_fixes/membership_values.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mongoeco
import pytest
import pytest_asyncio
from bson import ObjectId
from mongoeco.core.filtering import QueryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from app.store.engine_fixes import apply_engine_fixes

Doc = dict[str, Any]


@pytest_asyncio.fixture
async def values(engine_uri: str) -> AsyncIterator[AsyncCollection[Doc]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(engine_uri)
    yield client["membership"][f"c{ObjectId()}"]
    await client.close()


async def test_lists_equal_in_python_but_not_in_mongodb_are_told_apart(
    values: AsyncCollection[Doc],
) -> None:
    """update_many re-tests its filter in Python on each document: [1], [True] and [1.0]
    are one tuple to Python's equality, and True is not 1 to MongoDB."""
    await values.insert_many([{"v": 1}, {"v": True}, {"v": 1.0}, {"v": "1"}, {"v": None}])
    for listed, expected in (([1], 2), ([True], 1), ([1.0], 2), (["1"], 1), ([1], 2)):
        done = await values.update_many({"v": {"$in": listed}}, {"$inc": {"hits": 1}})
        assert done.modified_count == expected, listed
    assert (await values.update_many({"v": {"$in": [None]}}, {"$set": {"n": 1}})).modified_count
    unhashable = await values.update_many({"v": {"$in": [[1], {"a": 1}, 1]}}, {"$set": {"u": 1}})
    assert unhashable.modified_count == 2
    assert await values.count_documents({"v": {"$nin": [1, True]}}) == 2


async def test_an_in_under_a_collation_follows_the_collation(
    values: AsyncCollection[Doc],
) -> None:
    """A collation is passed through: the list is prepared under it, not kept."""
    await values.insert_many([{"v": "a"}, {"v": "A"}, {"v": "b"}])
    caseless = {"locale": "en", "strength": 2}
    for _ in range(2):
        done = await values.update_many(
            {"v": {"$in": ["A"]}}, {"$inc": {"hits": 1}}, collation=caseless
        )
        assert done.modified_count == 2
    assert await values.count_documents({"v": {"$in": ["A"]}}) == 1


def test_an_update_many_prepares_its_list_once_not_per_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, on the real engine: the items' lookup keys are counted where they are
    made (a 200-id list prepared per document would make 40,000)."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "membership.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["membership"]["slots"]
    coll.insert_many([{"n": i, "removed": False} for i in range(300)])
    ids = [d["_id"] for d in coll.find({}, {"_id": 1})][:200]
    made = 0
    key = QueryEngine._hashable_in_lookup_key

    def counted(cls: type, item: Any, **kwargs: Any) -> Any:
        nonlocal made
        made += 1
        return key(item, **kwargs)

    monkeypatch.setattr(QueryEngine, "_hashable_in_lookup_key", classmethod(counted))
    done = coll.update_many({"_id": {"$in": ids}, "removed": False}, {"$set": {"removed": True}})
    assert done.modified_count == 200
    assert made < 5 * 200, made
    client.close()

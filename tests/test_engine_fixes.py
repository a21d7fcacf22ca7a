"""The embedded store's write-path fixes keep MongoDB's semantics (app/store/engine_fixes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from bson import ObjectId
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.store.embedded import EmbeddedStoreProcess
from app.store.engine_fixes import apply_engine_fixes


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def engine_uri(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    store = EmbeddedStoreProcess(request.param, tmp_path_factory.mktemp(f"fix-{request.param}"))
    yield store.start()
    store.stop()


@pytest_asyncio.fixture
async def collection(engine_uri: str) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(engine_uri)
    found = client["engine_fixes"][f"c{ObjectId()}"]
    await found.create_index("key", unique=True, partialFilterExpression={"live": True})
    yield found
    await client.close()


def test_the_patched_internals_are_still_there() -> None:
    """A mongoeco upgrade that moves these must fail here, not slow the store silently."""
    apply_engine_fixes()
    from mongoeco.api._async._database_admin_write_commands import (
        DatabaseAdminWriteCommandService,
    )

    for patched in (
        MemoryEngine._ensure_unique_indexes,
        SQLiteEngine._validate_document_against_unique_indexes,
        DatabaseAdminWriteCommandService.command_insert,
    ):
        assert hasattr(patched, "__wrapped__"), patched


async def test_unordered_batch_inserts_all_but_the_duplicate(
    collection: AsyncCollection[dict[str, Any]],
) -> None:
    await collection.insert_one({"key": "b", "live": True})
    docs = [{"key": k, "live": True} for k in ("a", "b", "c", "d")]
    with pytest.raises(BulkWriteError) as caught:
        await collection.insert_many(docs, ordered=False)
    details = caught.value.details
    assert details["nInserted"] == 3
    assert [e["index"] for e in details["writeErrors"]] == [1]
    assert details["writeErrors"][0]["code"] == 11000
    assert sorted(d["key"] for d in await collection.find({}).to_list()) == ["a", "b", "c", "d"]


async def test_ordered_batch_stops_at_the_duplicate(
    collection: AsyncCollection[dict[str, Any]],
) -> None:
    await collection.insert_one({"key": "b", "live": True})
    docs = [{"key": k, "live": True} for k in ("a", "b", "c")]
    with pytest.raises(BulkWriteError) as caught:
        await collection.insert_many(docs, ordered=True)
    assert caught.value.details["nInserted"] == 1
    assert await collection.count_documents({"key": "c"}) == 0


async def test_partial_index_lets_a_retired_key_be_reused(
    collection: AsyncCollection[dict[str, Any]],
) -> None:
    await collection.insert_many([{"key": "a", "live": False}, {"key": "a", "live": True}])
    assert await collection.count_documents({"key": "a"}) == 2


async def test_ids_stay_unique_whether_objectid_or_numeric(
    collection: AsyncCollection[dict[str, Any]],
) -> None:
    same = ObjectId()
    await collection.insert_one({"_id": same})
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"_id": same})
    with pytest.raises(BulkWriteError):
        await collection.insert_many([{"_id": ObjectId()}, {"_id": same}], ordered=False)
    # MongoDB treats 1 and 1.0 as the same _id: the scan the fix keeps for numeric ids.
    await collection.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"_id": 1.0})
    assert await collection.count_documents({}) == 3

"""Filters on `_id` through the SQLite engine's primary key (app/store/engine_fixes/id_lookup.py):
the same answers as MongoDB's rules on both engines, and a cost that does not grow with the
collection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from tests.store_growth import assert_flat, cpu_per_read_as_it_grows

Collection = AsyncCollection[dict[str, Any]]


@pytest_asyncio.fixture
async def people(engine_uri: str) -> AsyncIterator[tuple[Collection, list[Any]]]:
    """Documents with ObjectId, string, numeric and document ids, and an indexed field."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(engine_uri)
    coll = client["id_lookup"][f"c{ObjectId()}"]
    await coll.create_index("rank")
    ids: list[Any] = [ObjectId() for _ in range(6)] + ["s1", "s2", 7, 8.0, {"k": 1}]
    await coll.insert_many(
        [{"_id": i, "rank": n, "kind": "odd" if n % 2 else "even"} for n, i in enumerate(ids)]
    )
    yield coll, ids
    await client.close()


async def _ranks(coll: Collection, query: dict[str, Any], **options: Any) -> list[int]:
    return [d["rank"] for d in await coll.find(query, **options).to_list(None)]


async def test_in_over_ids_finds_exactly_the_named_documents(
    people: tuple[Collection, list[Any]],
) -> None:
    coll, ids = people
    missing = ObjectId()
    assert sorted(await _ranks(coll, {"_id": {"$in": [ids[1], ids[4], missing, "s2"]}})) == [
        1,
        4,
        7,
    ]
    assert sorted(await _ranks(coll, {"_id": {"$in": [ids[0], ids[0]]}})) == [0]
    assert await _ranks(coll, {"_id": {"$in": [missing]}}) == []
    # Numeric ids keep MongoDB's rule (7 and 7.0 are one id), through the engine's own path.
    assert sorted(await _ranks(coll, {"_id": {"$in": [7.0, 8, ids[2]]}})) == [2, 8, 9]


async def test_ids_beside_other_conditions_sorts_and_writes(
    people: tuple[Collection, list[Any]],
) -> None:
    coll, ids = people
    some = [ids[0], ids[1], ids[2], ids[3], "s1"]
    assert await _ranks(coll, {"_id": ids[3], "kind": "odd"}) == [3]
    assert await _ranks(coll, {"_id": ids[3], "kind": "even"}) == []
    assert await _ranks(coll, {"_id": {"$in": some}, "kind": "odd"}, sort=[("rank", -1)]) == [
        3,
        1,
    ]
    assert await _ranks(coll, {"$or": [{"_id": ids[5]}, {"_id": "s2"}]}, sort=[("rank", 1)]) == [
        5,
        7,
    ]
    assert await _ranks(coll, {"_id": {"$nin": some}, "kind": "even"}, sort=[("rank", 1)]) == [
        4,
        8,
        10,
    ]
    changed = await coll.update_many({"_id": {"$in": some}, "kind": "even"}, {"$set": {"hit": 1}})
    assert changed.modified_count == 3
    assert sorted(await _ranks(coll, {"hit": 1})) == [0, 2, 6]
    gone = await coll.delete_many({"_id": {"$in": [ids[0], "s1", 7]}})
    assert gone.deleted_count == 3


async def test_finding_ids_costs_the_store_the_same_at_1k_and_20k(tmp_path: Path) -> None:
    """Before the fix 50 ids took a read of every document (190 ms at 10,000)."""
    ids: list[ObjectId] = []

    async def nothing(coll: Collection) -> None:
        pass

    async def add(coll: Collection, size: int) -> int:
        new = [ObjectId() for _ in range(5000)]
        await coll.insert_many([{"_id": i, "status": "SCHEDULED"} for i in new])
        ids.extend(new)
        return len(new)

    async def read(coll: Collection, i: int) -> None:
        wanted = ids[i * 17 : i * 17 + 50]
        found = await coll.find({"_id": {"$in": wanted}, "status": "SCHEDULED"}).to_list(None)
        assert len(found) == 50

    assert_flat(*await cpu_per_read_as_it_grows(tmp_path / "data", nothing, add, read, 40))

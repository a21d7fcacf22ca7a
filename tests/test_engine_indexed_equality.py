"""Equalities and `$in` lists on an indexed field through the SQLite engine's own index
(app/store/engine_fixes/indexed_equality.py): the same answers as MongoDB's rules on both
engines, arrays included, and a cost that does not grow with the data."""

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
WARD = ObjectId()


@pytest_asyncio.fixture
async def beds(engine_uri: str) -> AsyncIterator[Collection]:
    """Indexed fields of every kind the fix reads through its index: boolean (sparse),
    nested boolean, ObjectId, string, integer, float."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(engine_uri)
    coll = client["indexed_equality"][f"c{ObjectId()}"]
    await coll.create_index("held", sparse=True)
    await coll.create_index("lock.live", sparse=True)
    await coll.create_index("ward")
    await coll.create_index("name")
    await coll.create_index("floor")
    await coll.create_index([("rate", 1), ("name", 1)])
    await coll.insert_many(
        [
            {
                "n": n,
                "ward": WARD if n % 3 == 0 else ObjectId(),
                "name": f"bed {n % 4}",
                "floor": n % 5,
                "rate": n / 2,
                **({"held": n % 2 == 0} if n % 7 else {}),
                **({"lock": {"live": True}} if n < 4 else {"lock": {"live": None}}),
            }
            for n in range(30)
        ]
    )
    yield coll
    await client.close()


async def _ns(coll: Collection, query: dict[str, Any]) -> list[int]:
    return sorted(d["n"] for d in await coll.find(query).to_list(None))


async def test_equalities_find_what_mongodb_finds(beds: Collection) -> None:
    assert await _ns(beds, {"held": True}) == [n for n in range(30) if n % 7 and n % 2 == 0]
    assert await _ns(beds, {"held": False}) == [n for n in range(30) if n % 7 and n % 2]
    assert await _ns(beds, {"lock.live": True}) == [0, 1, 2, 3]
    assert await _ns(beds, {"ward": WARD}) == list(range(0, 30, 3))
    assert await _ns(beds, {"name": "bed 1"}) == list(range(1, 30, 4))
    assert await _ns(beds, {"floor": 2}) == list(range(2, 30, 5))
    assert await _ns(beds, {"floor": 2.0}) == list(range(2, 30, 5))  # 2 and 2.0 are equal
    assert await _ns(beds, {"rate": 1.5, "name": "bed 3"}) == [3]
    assert await _ns(beds, {"ward": WARD, "held": True, "floor": 2}) == [12]
    assert await _ns(beds, {"$or": [{"held": True}, {"floor": 4}]}) == sorted(
        {n for n in range(30) if n % 7 and n % 2 == 0} | set(range(4, 30, 5))
    )
    assert await _ns(beds, {"held": None}) == [0, 7, 14, 21, 28]  # missing: not in the index


async def test_memberships_find_what_mongodb_finds(beds: Collection) -> None:
    others = [d["ward"] for d in await beds.find({"n": {"$in": [1, 2]}}).to_list(None)]
    assert await _ns(beds, {"ward": {"$in": [WARD, *others, ObjectId()]}}) == sorted(
        [*range(0, 30, 3), 1, 2]
    )
    assert await _ns(beds, {"name": {"$in": ["bed 1", "bed 2", "nobody"]}}) == sorted(
        [*range(1, 30, 4), *range(2, 30, 4)]
    )
    # 3 and 3.0 are equal; a value of another type in the same list matches its own kind.
    assert await _ns(beds, {"floor": {"$in": [3.0, 4, "4"]}}) == sorted(
        [*range(3, 30, 5), *range(4, 30, 5)]
    )
    assert await _ns(beds, {"held": {"$in": [False]}, "floor": {"$in": [1, 3]}}) == [
        n for n in range(30) if n % 7 and n % 2 and n % 5 in (1, 3)
    ]
    assert await _ns(beds, {"held": {"$in": [None, True]}}) == sorted(  # None: missing too
        {0, 7, 14, 21, 28} | {n for n in range(30) if n % 7 and n % 2 == 0}
    )
    assert await _ns(beds, {"floor": {"$nin": [0, 1, 2, 3]}}) == list(range(4, 30, 5))
    assert await _ns(beds, {"ward": {"$in": [ObjectId()]}}) == []


async def test_arrays_written_later_are_still_found(beds: Collection) -> None:
    """Where SQL equality on the index could miss a match, the engine's translation decides."""
    await beds.insert_many(
        [
            {"n": 100, "floor": [2, 9], "name": ["bed 1", "spare"], "held": [True]},
            {"n": 101, "floor": [2.0], "lock": [{"live": True}]},
        ]
    )
    assert await _ns(beds, {"floor": 2}) == [*range(2, 30, 5), 100, 101]
    assert await _ns(beds, {"name": "bed 1"}) == [*range(1, 30, 4), 100]
    assert 100 in await _ns(beds, {"held": True})
    assert await _ns(beds, {"lock.live": True}) == [0, 1, 2, 3, 101]
    assert await _ns(beds, {"floor": {"$in": [9, 4]}}) == [*range(4, 30, 5), 100]
    assert await _ns(beds, {"name": {"$in": ["spare"]}}) == [100]
    changed = await beds.update_many({"floor": 2}, {"$set": {"seen": True}})
    assert changed.modified_count == 8
    assert (await beds.delete_many({"name": "bed 1"})).deleted_count == 9


async def test_a_sparse_boolean_lookup_costs_the_store_the_same_at_1k_and_20k(
    tmp_path: Path,
) -> None:
    """A patient's live locks: before the fix every such read decoded the whole collection."""

    async def prepare(coll: Collection) -> None:
        await coll.create_index("lock.live", sparse=True)
        await coll.create_index("doctor")

    async def add(coll: Collection, size: int) -> int:
        await coll.insert_many(
            [
                {"doctor": i % 50, "who": "someone", "lock": {"live": True if i < 20 else None}}
                for i in range(size, size + 5000)
            ]
        )
        return 5000

    async def read(coll: Collection, i: int) -> None:
        """As lockSlot asks: this patient's live locks, where it holds none (read to the end)."""
        assert await coll.find({"lock.live": True, "who": "nobody"}).to_list(None) == []

    assert_flat(*await cpu_per_read_as_it_grows(tmp_path / "data", prepare, add, read, 40))


async def test_a_membership_of_a_hundred_ids_costs_the_store_the_same_at_1k_and_20k(
    tmp_path: Path,
) -> None:
    """A read model's day: `date` and 100 doctors' ids. Before the fix the `$in` read the whole
    collection, testing each document against every value."""
    doctors = [ObjectId() for _ in range(200)]
    asked = [*doctors[:2], *(ObjectId() for _ in range(98))]  # two of them have slots

    async def prepare(coll: Collection) -> None:
        await coll.create_index("doctor")

    async def add(coll: Collection, size: int) -> int:
        await coll.insert_many(
            [{"doctor": doctors[i % 200], "date": f"d{i % 60}"} for i in range(size, size + 1000)]
        )
        return 1000

    async def read(coll: Collection, i: int) -> None:
        found = await coll.find({"date": "d0", "doctor": {"$in": asked}}).to_list(None)
        assert {d["doctor"] for d in found} <= set(doctors[:2])

    assert_flat(*await cpu_per_read_as_it_grows(tmp_path / "data", prepare, add, read, 20))

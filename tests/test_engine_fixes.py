"""The embedded store's write-path fixes keep MongoDB's semantics (app/store/engine_fixes.py)."""

from __future__ import annotations

import asyncio
import inspect
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import mongoeco
import pytest
import pytest_asyncio
from bson import DBRef, Decimal128, Int64, ObjectId
from mongoeco.api._async import _collection_modify
from mongoeco.api._async._collection_runtime import CollectionRuntimeCoordinator
from mongoeco.core._filtering_matching import FilteringMatchingMixin
from mongoeco.engines import _sqlite_admin_runtime
from mongoeco.engines import sqlite as sqlite_module
from mongoeco.engines._sqlite_session_runtime import SQLiteSessionRuntime
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.store.backup import database_path
from app.store.embedded import EmbeddedStoreProcess
from app.store.engine_fixes import apply_engine_fixes, probe_questions
from tests.store_growth import store_cpu_seconds


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
    from mongoeco._change_streams.hub import ChangeStreamHub
    from mongoeco.api._async._database_admin_write_commands import (
        DatabaseAdminWriteCommandService,
    )
    from mongoeco.api._async.collection import AsyncCollection as EngineCollection
    from mongoeco.engines.adapter import EngineSpiAdapter

    for patched in (
        ChangeStreamHub.register_watcher,
        EngineCollection._new_operation_context,
        EngineSpiAdapter.dispatch_committed_changes,
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


# --- The SQLite engine's feature probes and unique checks (feature_cache, unique_index) ---


@pytest.fixture(scope="module")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = EmbeddedStoreProcess("sqlite", tmp_path_factory.mktemp("fix-sqlite-probes"))
    yield store.start()
    store.stop()


@pytest_asyncio.fixture
async def sqlite_coll(sqlite_uri: str) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(sqlite_uri)
    yield client["engine_fixes"][f"s{ObjectId()}"]
    await client.close()


def test_the_sqlite_internals_the_fixes_rely_on_are_still_there() -> None:
    """Pinned to mongoeco 4.11: its probe kinds, and the functions the fixes wrap."""
    apply_engine_fixes()
    assert mongoeco.__version__.startswith("4.11."), mongoeco.__version__
    for patched in (
        SQLiteEngine._invalidate_collection_features_cache,
        SQLiteEngine._connect_sync,
        SQLiteEngine._unique_index_conflict_via_scalar_entries,
        SQLiteEngine._create_sqlite_connection,
        CollectionRuntimeCoordinator._dispatch_engine_changes,
        _collection_modify.update_many,
        SQLiteEngine.update_with_operation,
        SQLiteEngine._update_with_operation_sync,
        SQLiteEngine._field_contains_tagged_value_type_in_collection,
        SQLiteEngine._field_is_top_level_array_in_collection,
        SQLiteEngine._field_contains_real_numeric_in_collection,
        FilteringMatchingMixin._prepare_membership_values,
        SQLiteEngine._translate_query_plan_with_multikey,
        SQLiteSessionRuntime.begin_write,
        SQLiteSessionRuntime.commit_write,
        SQLiteSessionRuntime.rollback_write,
        SQLiteEngine._backfill_scalar_indexes_sync,
        _sqlite_admin_runtime._sqlite_drop_database,
        *(
            getattr(sqlite_module, name)
            for name in (
                "_sqlite_create_index",
                "_sqlite_drop_index",
                "_sqlite_drop_all_indexes",
                "_sqlite_drop_collection",
            )
        ),
    ):
        assert hasattr(patched, "__wrapped__"), patched
    source = inspect.getsource(SQLiteEngine)
    kinds = set(re.findall(r'f"(\w+):\{field', source))
    assert kinds == probe_questions.KNOWN_PROBE_KINDS, kinds ^ probe_questions.KNOWN_PROBE_KINDS


async def test_an_array_written_later_is_found_by_an_element_query(
    sqlite_coll: AsyncCollection[dict[str, Any]],
) -> None:
    await sqlite_coll.insert_many(
        [{"n": i, "tag": f"t{i}", "item": {"code": i}} for i in range(20)]
    )
    # These plan with the cached "never an array" answers ...
    assert await sqlite_coll.count_documents({"tag": "x"}) == 0
    assert await sqlite_coll.count_documents({"item.code": 99}) == 0
    await sqlite_coll.update_one({"n": 3}, {"$set": {"tag": ["x", "y"]}})
    await sqlite_coll.insert_one({"n": 100, "item": [{"code": 99}, {"code": 98}]})
    # ... which the writes above must have turned, or these would miss the arrays.
    assert await sqlite_coll.count_documents({"tag": "x"}) == 1
    assert await sqlite_coll.count_documents({"tag": {"$in": ["y"]}}) == 1
    assert await sqlite_coll.count_documents({"item.code": 99}) == 1
    assert await sqlite_coll.count_documents({"item.code": {"$gte": 98}}) == 1


async def test_a_decimal_or_a_mixed_type_written_later_is_compared_as_mongodb_does(
    sqlite_coll: AsyncCollection[dict[str, Any]],
) -> None:
    await sqlite_coll.insert_many([{"n": i, "price": i} for i in range(10)])
    assert await sqlite_coll.count_documents({"price": {"$gt": 7}}) == 2
    assert [d["n"] for d in await sqlite_coll.find({}).sort("price", -1).limit(1).to_list()] == [9]
    await sqlite_coll.insert_one({"n": 10, "price": Decimal128("7.5")})
    await sqlite_coll.insert_one({"n": 11, "price": 8.25})
    assert await sqlite_coll.count_documents({"price": {"$gt": 7}}) == 4
    await sqlite_coll.insert_one({"n": 12, "price": "free"})
    # MongoDB orders strings after numbers; a stale "all numbers" answer would not.
    first = await sqlite_coll.find({}).sort("price", -1).limit(1).to_list()
    assert [d["n"] for d in first] == [12]
    assert await sqlite_coll.count_documents({"price": {"$lt": 100}}) == 12


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [
        ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}),
        ({"a": 1, "b": "x"}, {"a": 1.0, "b": "x"}),
        ({"a": 7}, {"a": 7, "b": None}),
        ({"a": Int64(5), "b": 2}, {"a": 5, "b": 2}),
        ({"a": Decimal128("5"), "b": 2}, {"a": 5, "b": 2}),
        ({"a": 5, "b": 2}, {"a": Decimal128("5"), "b": 2}),
        (
            {"a": ObjectId("65f0a0a0a0a0a0a0a0a0a0a0"), "b": True},
            {"a": ObjectId("65f0a0a0a0a0a0a0a0a0a0a0"), "b": True},
        ),
    ],
)
async def test_a_compound_or_numeric_unique_key_still_refuses_its_duplicate(
    sqlite_coll: AsyncCollection[dict[str, Any]],
    existing: dict[str, Any],
    duplicate: dict[str, Any],
) -> None:
    await sqlite_coll.create_index([("a", 1), ("b", 1)], unique=True)
    await sqlite_coll.create_index("num", unique=True, sparse=True)
    await sqlite_coll.insert_many([{"a": 1000 + i, "b": "y", "num": i} for i in range(50)])
    await sqlite_coll.insert_one(dict(existing))
    with pytest.raises(DuplicateKeyError):
        await sqlite_coll.insert_one(dict(duplicate))
    other = await sqlite_coll.insert_one({"a": 2000, "b": "z"})
    with pytest.raises(DuplicateKeyError):
        await sqlite_coll.update_one({"_id": other.inserted_id}, {"$set": duplicate})
    with pytest.raises(DuplicateKeyError):
        await sqlite_coll.update_one({"num": 3}, {"$set": {"num": 4}})
    with pytest.raises(DuplicateKeyError):
        await sqlite_coll.update_one({"num": 3}, {"$set": {"num": 4.0}})
    assert await sqlite_coll.count_documents({}) == 52
    # Not duplicates: the same document rewritten, and a neighbouring key.
    assert (await sqlite_coll.update_one(existing, {"$set": {"c": 1}})).modified_count == 1
    await sqlite_coll.insert_one({**duplicate, "b": "other"})


def _fresh_probe(engine: SQLiteEngine, key: tuple[str, str, str]) -> bool | str:
    """The probe's answer asked of the whole collection again, as mongoeco 4.11 asks it."""
    db, coll, probe = key
    kind, _, rest = probe.partition(":")
    engine._collection_features_cache.pop(key, None)
    with_argument = {
        "comparison_mismatch": engine._field_has_comparison_type_mismatch_in_collection,
        "scalar_or_array_comparison_mismatch": (
            engine._field_has_scalar_or_array_element_type_mismatch_in_collection
        ),
        "tagged_type": engine._field_contains_tagged_value_type_in_collection,
    }
    if kind in with_argument:
        field, argument = rest.rsplit(":", 1)
        return with_argument[kind](db, coll, field, argument)
    by_field = {
        "uniform_scalar_sort_type": engine._field_has_uniform_scalar_sort_type_in_collection,
        "traverses_array": engine._field_traverses_array_in_collection,
        "traverses_dbref": engine._field_traverses_dbref_in_collection,
        "top_level_array": engine._field_is_top_level_array_in_collection,
        "contains_real_numeric": engine._field_contains_real_numeric_in_collection,
        "contains_non_ascii_text": engine._field_contains_non_ascii_text_in_collection,
    }
    return by_field[kind](db, coll, rest) or False


def test_cached_probes_never_claim_less_than_the_collection_holds(tmp_path: Path) -> None:
    """After each write every kept answer is the fresh one, or the conservative "yes"/"mixed".

    In process, on the real engine: the cache lives inside the store and a wire client
    cannot see it. Shapes cover every probe kind: arrays, nested arrays, decimals, floats,
    strings, non-ASCII text, booleans, references, missing fields."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "probes.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["probes"]["c"]
    coll.create_index([("s", 1)])
    shapes: list[dict[str, Any]] = [
        {"n": 1, "s": "a", "f": True, "o": {"p": 1}},
        {"n": 2.5, "s": "b", "o": {"p": [1, 2]}},
        {"n": Decimal128("3"), "s": "é"},
        {"n": [4, "x"], "s": ["c"], "o": [{"p": 3}]},
        {"n": "five", "f": 1, "r": DBRef("other", 1)},
        {"s": 6, "o": {"p": Decimal128("1.5")}},
    ]
    queries: list[dict[str, Any]] = [
        {"n": {"$gt": 0}},
        {"n": 4},
        {"s": {"$lt": "z"}},
        {"s": {"$regex": "^a", "$options": "i"}},
        {"f": True},
        {"o.p": {"$gte": 1}},
        {"o.p": 2},
        {"r.$id": 1},
    ]
    coll.insert_many([{"n": i, "s": f"s{i}", "f": False, "o": {"p": i}} for i in range(30)])
    first = coll.find_one({"n": 0})["_id"]  # type: ignore[index]
    kinds_seen: set[str] = set()
    for shape in shapes:
        for query in queries:
            coll.count_documents(query)
        list(coll.find({}).sort("n", 1))
        list(coll.find({}).sort("s", -1))
        coll.insert_one(dict(shape))
        coll.update_one({"n": 7}, {"$set": shape})
        with pytest.raises(DuplicateKeyError):  # a refused write: its scope rolls back
            coll.update_one({"_id": first, "n": -1}, {"$set": shape}, upsert=True)
        kept = dict(engine._collection_features_cache)
        kinds_seen.update(key[2].partition(":")[0] for key in kept)
        for key, cached in kept.items():
            fresh = _fresh_probe(engine, key)
            if fresh != cached:
                assert cached is True or (key[2].startswith("uniform") and cached is False), (
                    key,
                    cached,
                    fresh,
                    shape,
                )
        coll.delete_one({"n": 8})
    client.close()
    assert len(kinds_seen) >= 7, kinds_seen


def test_a_refused_write_keeps_every_collections_probes(tmp_path: Path) -> None:
    """A lease's upsert that finds its holder (DuplicateKeyError) rolls back a scope that
    changed nothing; the engine dropped every collection's probes there, so under a rush
    with leases retried each second most reads re-ran full scans."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "refused.sqlite"))
    client = mongoeco.MongoClient(engine)
    slots, leases = client["refused"]["slots"], client["refused"]["leases"]
    slots.insert_many([{"n": i, "held": False} for i in range(20)])
    assert slots.count_documents({"held": True}) == 0
    leases.insert_one({"_id": "sender", "holder": "a"})
    probes = {key for key in engine._collection_features_cache if key[1] == "slots"}
    assert probes
    with pytest.raises(DuplicateKeyError):
        leases.update_one({"_id": "sender", "holder": "b"}, {"$set": {"holder": "b"}}, upsert=True)
    assert probes <= set(engine._collection_features_cache)
    assert leases.find_one({"_id": "sender"}) == {"_id": "sender", "holder": "a"}
    client.close()


def test_update_many_delivers_its_change_events_once_and_all_of_them(tmp_path: Path) -> None:
    """An update_many of 40 documents hands the change-stream hub all 40 events, in order,
    from one outbox delivery (it was one per document: five commits and a thread each)."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "deliveries.sqlite"))
    deliveries = 0
    deliver = engine.dispatch_committed_changes

    def counted(*args: Any, **kwargs: Any) -> None:
        nonlocal deliveries
        deliveries += 1
        deliver(*args, **kwargs)

    engine.dispatch_committed_changes = counted  # type: ignore[method-assign]
    client = mongoeco.MongoClient(engine)
    coll = client["deliveries"]["c"]
    coll.insert_many([{"n": i, "ward": "a" if i < 40 else "b"} for i in range(50)])
    stream = coll.watch(max_await_time_ms=50)
    deliveries = 0
    result = coll.update_many({"ward": "a"}, {"$set": {"seen": True}})
    assert result.modified_count == 40
    assert deliveries == 1
    events = [stream.try_next() for _ in range(40)]
    assert stream.try_next() is None
    stream.close()
    assert [e["operationType"] for e in events if e] == ["update"] * 40
    ids = [d["_id"] for d in coll.find({"ward": "a"}).sort("n", 1)]
    assert sorted(e["documentKey"]["_id"] for e in events if e) == sorted(ids)
    assert coll.count_documents({"seen": True}) == 40
    client.close()


async def test_a_write_costs_the_store_about_the_same_at_1k_and_50k_documents(
    tmp_path: Path,
) -> None:
    """Before the fixes a write re-scanned the collection (~10x the cost per 10x documents);
    now the store's CPU per write may wobble, but not grow with the data."""
    store = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store.start())
    assert store.process is not None
    pid = store.process.pid
    coll = client["scaling"]["slots"]
    await coll.create_index("key", unique=True)
    await coll.create_index("num", unique=True)
    await coll.create_index([("doctor", 1), ("at", 1)], unique=True)
    await coll.create_index("lock", unique=True, sparse=True)

    async def grow(first: int, last: int) -> None:
        for start in range(first, last, 5000):
            await coll.insert_many(
                [
                    {"key": f"k{i}", "num": i, "doctor": i % 40, "at": i, "state": "free"}
                    for i in range(start, min(start + 5000, last))
                ]
            )

    async def cpu_per_write(size: int) -> float:
        began = store_cpu_seconds(pid)
        for i in range(60):
            key = f"k{i * 797 % size}"
            await coll.update_one({"key": key}, {"$set": {"state": "held", "lock": f"L{key}"}})
            await coll.update_one({"key": key}, {"$set": {"state": "free"}, "$unset": {"lock": ""}})
            await coll.insert_one(
                {"key": f"n{size}-{i}", "num": -size - i, "doctor": -size, "at": i}
            )
        return (store_cpu_seconds(pid) - began) / 180

    try:
        await grow(0, 1000)
        small = await cpu_per_write(1000)
        await grow(1000, 50_000)
        large = await cpu_per_write(50_000)
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one({"key": "new", "num": 1, "doctor": 0, "at": 0})
    finally:
        await client.close()
        store.stop()
    assert large < 2.5 * small, (
        f"store CPU per write: {small * 1000:.2f} ms at 1k, {large * 1000:.2f} ms at 50k"
    )


def test_an_answer_found_on_an_older_snapshot_lasts_only_until_the_next_write(
    tmp_path: Path,
) -> None:
    """A reader on its own snapshot connection may not see a write already refreshed; its
    "no array here" must not outlive the collection's next write."""
    apply_engine_fixes()
    engine = SQLiteEngine(str(tmp_path / "snapshot.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["snap"]["c"]
    coll.insert_many([{"n": i, "tags": "plain"} for i in range(5)])
    reader = engine._create_sqlite_connection()
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM documents").fetchone()  # the snapshot starts here
    coll.insert_one({"n": 5, "tags": ["a", "b"]})
    with engine._bind_connection(reader):
        assert engine._field_is_top_level_array_in_collection("snap", "c", "tags") is False
    reader.rollback()
    reader.close()
    coll.insert_one({"n": 6, "tags": "plain"})  # a write with no array of its own
    assert coll.count_documents({"tags": "b"}) == 1
    assert engine._field_is_top_level_array_in_collection("snap", "c", "tags") is True
    client.close()


async def test_update_many_stopped_by_a_duplicate_keeps_what_it_wrote_and_the_store_serves_on(
    collection: AsyncCollection[dict[str, Any]],
) -> None:
    """As on MongoDB: the documents before the duplicate stay updated, the rest untouched,
    and the store takes the next write (the batch's transaction and lock are let go)."""
    await collection.insert_many([{"key": f"k{i}", "live": False, "n": i} for i in range(5)])
    await collection.insert_one({"key": "taken", "live": True})
    with pytest.raises(DuplicateKeyError):
        await collection.update_many({"live": False}, {"$set": {"key": "taken", "live": True}})
    assert await collection.count_documents({"key": "taken"}) == 1
    assert await collection.count_documents({"live": False}) == 5
    done = await collection.update_many({"live": False}, {"$set": {"seen": True}})
    assert done.modified_count == 5
    assert await collection.count_documents({"seen": True}) == 5


async def test_update_many_while_others_read_and_write(
    collection: AsyncCollection[dict[str, Any]],
) -> None:
    """A long update_many and other clients' reads and writes at once: all answer, all land."""
    await collection.insert_many([{"key": f"m{i}", "live": True, "w": "a"} for i in range(300)])

    async def others() -> int:
        done = 0
        for i in range(20):
            await collection.insert_one({"key": f"o{i}", "live": True, "w": "b"})
            done += await collection.count_documents({"w": "b"}) > 0
        return done

    updated, seen = await asyncio.gather(
        collection.update_many({"w": "a"}, {"$set": {"seen": True}}), others()
    )
    assert updated.modified_count == 300
    assert seen == 20
    assert await collection.count_documents({"seen": True}) == 300
    assert await collection.count_documents({"w": "b"}) == 20


def _scalar_entries(data_dir: Path, index_name: str) -> set[str]:
    """The element keys the store holds for one index, read from its file while it is stopped."""
    with closing(sqlite3.connect(database_path(data_dir))) as conn:
        rows = conn.execute(
            "SELECT element_key FROM scalar_index_entries WHERE index_name = ?", (index_name,)
        ).fetchall()
    return {str(key) for (key,) in rows}


async def test_a_restart_keeps_the_index_entries_it_maintained_and_rebuilds_after_a_change(
    tmp_path: Path,
) -> None:
    """The engine rebuilt every document's index entries at each start (over 30 s at 50,000
    slots, past the supervisor's wait). A start now rebuilds them only when the index set
    (or the engine version) changed since the last rebuild: a sentinel entry written into
    the stopped store's file shows which start rebuilt. An index made while the store runs
    changes the set, so the start after it rebuilds once."""
    data_dir = tmp_path / "data"

    async def session(work: Callable[[AsyncCollection[dict[str, Any]]], Awaitable[None]]) -> None:
        store = EmbeddedStoreProcess("sqlite", data_dir)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store.start())
        try:
            await work(client["restarts"]["slots"])
        finally:
            await client.close()
            store.stop()

    async def first(coll: AsyncCollection[dict[str, Any]]) -> None:
        await coll.create_index("ward")
        await coll.insert_many([{"n": i, "ward": f"w{i % 3}"} for i in range(30)])
        await coll.update_many({"ward": "w1"}, {"$set": {"ward": "w9"}})

    async def unchanged(coll: AsyncCollection[dict[str, Any]]) -> None:
        assert await coll.count_documents({"ward": "w9"}) == 10
        assert await coll.count_documents({"ward": "w1"}) == 0

    async def new_index(coll: AsyncCollection[dict[str, Any]]) -> None:
        await coll.create_index("n")

    def plant_sentinel() -> None:
        with closing(sqlite3.connect(database_path(data_dir))) as conn:
            conn.execute(
                "INSERT INTO scalar_index_entries (collection_id, index_name, storage_key,"
                " element_type, type_score, element_key)"
                " SELECT collection_id, 'ward_1', 'sentinel', 'string', 100, 'sentinel'"
                " FROM scalar_index_entries WHERE index_name = 'ward_1' LIMIT 1"
            )
            conn.commit()

    await session(first)
    assert _scalar_entries(data_dir, "ward_1") >= {"w0", "w2", "w9"}
    await session(unchanged)  # the index made after the last start: rebuilt once, here
    plant_sentinel()
    await session(unchanged)
    assert "sentinel" in _scalar_entries(data_dir, "ward_1")  # not rebuilt
    await session(new_index)
    await session(unchanged)
    assert "sentinel" not in _scalar_entries(data_dir, "ward_1")  # the index set changed
    assert "w1" not in _scalar_entries(data_dir, "ward_1")

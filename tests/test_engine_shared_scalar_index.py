"""One physical SQLite index for every Mongo index's scalar entries
(app/store/engine_fixes/shared_scalar_index.py): the file holds one whatever the number of
indexes, queries answer as on the memory engine, drops of an index, a collection or a
database leave the others' reads working, and a file made before the fix is migrated
at its next open."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import mongoeco
import pytest
import pytest_asyncio
from bson import ObjectId
from mongoeco.engines import _sqlite_admin_runtime, _sqlite_index_runtime
from mongoeco.engines import sqlite as sqlite_module
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.store.backup import database_path
from app.store.embedded import EmbeddedStoreProcess
from app.store.engine_fixes import apply_engine_fixes
from app.store.engine_fixes.shared_scalar_index import SHARED_INDEX, SHARED_INDEX_COLUMNS

Client = AsyncMongoClient[dict[str, Any]]
Collection = AsyncCollection[dict[str, Any]]
ROOT = Path(__file__).resolve().parent.parent


def _scalar_indexes(path: Path) -> list[str]:
    """The SQLite indexes on scalar_index_entries that the engine names per Mongo index."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name = 'scalar_index_entries' AND name GLOB 'scidx_*' ORDER BY name"
        ).fetchall()
    return [name for (name,) in rows]


def _catalogue_names(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT scalar_physical_name FROM indexes WHERE scalar_physical_name IS NOT NULL"
        ).fetchall()
    return {name for (name,) in rows}


def test_the_admin_functions_quote_only_index_ddl() -> None:
    """The fix changes the identifier quoting mongoeco 4.11's admin functions use; that is
    only sound while they use it for CREATE/DROP INDEX alone, with the columns it copies."""
    apply_engine_fixes()
    assert SQLiteEngine._physical_scalar_index_name(None, "d", "c", "i") == SHARED_INDEX  # type: ignore[arg-type]
    creating = inspect.unwrap(sqlite_module._sqlite_create_index)
    dropping = [
        inspect.unwrap(patched)
        for patched in (
            sqlite_module._sqlite_drop_index,
            sqlite_module._sqlite_drop_all_indexes,
            sqlite_module._sqlite_drop_collection,
            _sqlite_admin_runtime._sqlite_drop_database,
        )
    ]
    for original, statement in [
        (creating, "CREATE INDEX "),
        *((d, "IF EXISTS ") for d in dropping),
    ]:
        uses = re.findall(r"(.{0,30})\{quote_identifier\(", inspect.getsource(original))
        assert uses, original
        assert all(before.endswith(statement) for before in uses), (original, uses)
    assert f'"ON {SHARED_INDEX_COLUMNS}"' in inspect.getsource(creating)
    ensure = inspect.getsource(_sqlite_index_runtime.ensure_scalar_physical_indexes_sync)
    assert f'"ON {SHARED_INDEX_COLUMNS}"' in ensure


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def shared_index_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp(f"scidx-{request.param}")
    store = EmbeddedStoreProcess(request.param, data_dir)
    yield store.start(), data_dir
    store.stop()


@pytest_asyncio.fixture
async def client(shared_index_store: tuple[str, Path]) -> AsyncIterator[Client]:
    found: Client = AsyncMongoClient(shared_index_store[0])
    yield found
    await found.close()


async def _ward(client: Client, db: str, coll: str) -> Collection:
    """A collection with several single-field indexes (each had its own SQLite copy)."""
    found = client[db][coll]
    await found.create_index("bed", unique=True)
    await found.create_index("floor")
    await found.create_index("name")
    await found.create_index("held", sparse=True)
    await found.create_index([("floor", 1), ("name", 1)])
    await found.insert_many(
        [
            {
                "bed": n,
                "floor": n % 4,
                "name": f"bed {n:03}",
                **({"held": n % 2 == 0} if n % 3 else {}),
            }
            for n in range(60)
        ]
    )
    return found


async def _beds(coll: Collection, query: dict[str, Any], **sort: int) -> list[int]:
    cursor = coll.find(query)
    if sort:
        cursor = cursor.sort(list(sort.items()))
    return [d["bed"] for d in await cursor.to_list(None)]


async def _answers_as_mongodb(coll: Collection) -> None:
    assert sorted(await _beds(coll, {"floor": 2})) == list(range(2, 60, 4))
    assert sorted(await _beds(coll, {"held": True})) == [
        n for n in range(60) if n % 3 and n % 2 == 0
    ]
    assert sorted(await _beds(coll, {"bed": {"$gte": 55}})) == [55, 56, 57, 58, 59]
    assert sorted(await _beds(coll, {"name": {"$gt": "bed 010", "$lt": "bed 014"}})) == [11, 12, 13]
    assert await _beds(coll, {}, bed=-1) == list(range(59, -1, -1))
    assert (await coll.find({}).sort("bed", -1).limit(3).to_list(None))[2]["bed"] == 57
    assert await _beds(coll, {"floor": 1}, name=1) == list(range(1, 60, 4))
    assert await _beds(coll, {"floor": 3, "name": "bed 007"}) == [7]
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"bed": 7, "floor": 9})
    with pytest.raises(DuplicateKeyError):
        await coll.update_one({"bed": 8}, {"$set": {"bed": 9}})


async def test_indexed_queries_answer_as_on_mongodb(client: Client) -> None:
    await _answers_as_mongodb(await _ward(client, "scidx_answers", f"c{ObjectId()}"))


async def test_drops_leave_the_other_indexes_reads_working(
    client: Client, shared_index_store: tuple[str, Path]
) -> None:
    suffix = ObjectId()
    kept = await _ward(client, f"scidx_kept{suffix}", "ward")
    other = await _ward(client, f"scidx_kept{suffix}", "other")
    doomed = await _ward(client, f"scidx_gone{suffix}", "ward")
    await kept.drop_index("name_1")
    assert await _beds(kept, {"floor": 1}, bed=1) == list(range(1, 60, 4))
    await other.drop_indexes()
    await _answers_as_mongodb(doomed)
    await other.drop()
    await _answers_as_mongodb(doomed)
    await client.drop_database(f"scidx_gone{suffix}")
    assert await _beds(kept, {"floor": 1}, bed=-1) == list(range(57, 0, -4))
    with pytest.raises(DuplicateKeyError):
        await kept.insert_one({"bed": 7})
    again = await _ward(client, f"scidx_gone{suffix}", "ward")  # made anew after the drops
    await _answers_as_mongodb(again)
    if database_path(shared_index_store[1]).exists():  # the SQLite store's own file
        assert _scalar_indexes(database_path(shared_index_store[1])) == [SHARED_INDEX]


async def test_the_file_holds_one_scalar_index_whatever_the_number_of_indexes(
    tmp_path: Path,
) -> None:
    store = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    client: Client = AsyncMongoClient(store.start())
    try:
        for db in ("one", "two"):
            for coll in ("a", "b", "c"):
                await _ward(client, db, coll)  # 6 collections x 4 single-field indexes
    finally:
        await client.close()
        store.stop()
    path = database_path(tmp_path / "data")
    assert _scalar_indexes(path) == [SHARED_INDEX]
    assert _catalogue_names(path) == {SHARED_INDEX}


def test_reads_through_the_shared_index_are_index_backed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every statement that names the shared index (INDEXED BY) searches it, in process
    on the real engine, where its statements (on every connection it opens, readers
    included) can be traced and explained."""
    apply_engine_fixes()
    statements: list[str] = []
    connect = SQLiteEngine._create_sqlite_connection

    @functools.wraps(connect)
    def traced(self: SQLiteEngine) -> sqlite3.Connection:
        conn = connect(self)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(SQLiteEngine, "_create_sqlite_connection", traced)
    engine = SQLiteEngine(str(tmp_path / "plans.sqlite"))
    client = mongoeco.MongoClient(engine)
    coll = client["plans"]["c"]
    for field in ("bed", "floor", "name"):
        coll.create_index(field)
    coll.insert_many([{"bed": n, "floor": n % 4, "name": f"b{n:03}"} for n in range(200)])
    statements.clear()
    assert [d["bed"] for d in coll.find({}).sort("bed", -1).limit(2)] == [199, 198]
    assert [d["bed"] for d in coll.find({"floor": 2}).sort("name", 1).limit(2)] == [2, 6]
    through = [s for s in statements if f'INDEXED BY "{SHARED_INDEX}"' in s]
    assert len(through) >= 2, statements
    with closing(sqlite3.connect(tmp_path / "plans.sqlite")) as conn:
        for statement in through:
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
            searched = f"SEARCH scalar_index_entries USING COVERING INDEX {SHARED_INDEX} ("
            assert any(step.startswith(searched) for step in plan), plan
            assert not any(step.startswith("SCAN scalar_index_entries") for step in plan), plan
    client.close()


# A file written by the engine before this fix: mongoeco alone, or with index_backfill (the
# store as it was), whose mark then says the entries are current.
_WRITE_BEFORE_THE_FIX = """
import sys
import mongoeco
from mongoeco.engines.sqlite import SQLiteEngine
if sys.argv[2] == "index_backfill":
    from app.store.engine_fixes import index_backfill
    index_backfill.apply()
client = mongoeco.MongoClient(SQLiteEngine(sys.argv[1]))
for coll in ("ward", "other"):
    ward = client["before"][coll]
    ward.create_index("bed", unique=True)
    ward.create_index("floor")
    ward.create_index("name")
    ward.create_index("held", sparse=True)
    ward.insert_many([{"bed": n, "floor": n % 4, "name": f"bed {n:03}",
                       **({"held": n % 2 == 0} if n % 3 else {})} for n in range(60)])
client.close()
client = mongoeco.MongoClient(SQLiteEngine(sys.argv[1]))  # reopened: index_backfill marks it
client["before"]["ward"].count_documents({})
client.close()
"""


@pytest.mark.parametrize("made_by", ["mongoeco", "index_backfill"])
async def test_a_file_made_before_the_fix_is_migrated_at_open(tmp_path: Path, made_by: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    path = database_path(data_dir)
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _WRITE_BEFORE_THE_FIX, str(path), made_by],
        cwd=ROOT,
        check=True,
    )
    copies = _scalar_indexes(path)
    assert len(copies) == 8 and SHARED_INDEX not in copies, copies
    expected = f"scidx_{hashlib.sha1(b'before:ward:bed_1:scalar').hexdigest()[:16]}"
    assert expected in copies
    with closing(sqlite3.connect(path)) as conn:  # which start rebuilds the entries
        conn.execute(
            "INSERT INTO scalar_index_entries (collection_id, index_name, storage_key,"
            " element_type, type_score, element_key) SELECT collection_id, 'floor_1',"
            " 'sentinel', 'string', 100, 'sentinel' FROM collections"
            " WHERE db_name = 'before' AND coll_name = 'ward'"
        )
        conn.commit()

    store = EmbeddedStoreProcess("sqlite", data_dir)
    client: Client = AsyncMongoClient(store.start())
    try:
        await _answers_as_mongodb(client["before"]["ward"])
        await client["before"]["other"].drop_index("floor_1")
        await _answers_as_mongodb(client["before"]["ward"])
    finally:
        await client.close()
        store.stop()
    assert _scalar_indexes(path) == [SHARED_INDEX]
    assert _catalogue_names(path) == {SHARED_INDEX}
    with closing(sqlite3.connect(path)) as conn:
        kept = conn.execute(
            "SELECT count(*) FROM scalar_index_entries WHERE storage_key = 'sentinel'"
        ).fetchone()[0]
    # Entries index_backfill vouched for are not rebuilt for a change of physical names.
    assert kept == (1 if made_by == "index_backfill" else 0)

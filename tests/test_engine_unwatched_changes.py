"""While nobody watches, the store keeps no change-stream outbox (engine_fixes/unwatched_changes).

The wire tests start a SQLite store of their own, to read its file; the in-process test
resets the "ever watched" mark it sets, which otherwise lasts the process's life.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mongoeco
import pytest
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from app.store.backup import database_path
from app.store.embedded import EmbeddedStoreProcess
from app.store.engine_fixes import apply_engine_fixes, unwatched_changes


@pytest.fixture
def own_store(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    store = EmbeddedStoreProcess("sqlite", tmp_path)
    uri = store.start()
    yield uri, tmp_path
    store.stop()


def _recorded(path: Path) -> int:
    """How many changes the outbox ever recorded (its AUTOINCREMENT counter: delivered rows
    are compacted away, the counter stays)."""
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'change_outbox'")
        found = row.fetchone()
        return 0 if found is None else int(found[0])


async def test_writes_nobody_watches_are_not_recorded(own_store: tuple[str, Path]) -> None:
    uri, data_dir = own_store
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        visits = client["unwatched"]["visits"]
        await visits.insert_many([{"n": n, "seen": False} for n in range(5)])
        await visits.update_one({"n": 0}, {"$set": {"seen": True}})
        await visits.update_many({"n": {"$gte": 3}}, {"$set": {"seen": True}})
        await visits.find_one_and_update({"n": 1}, {"$set": {"seen": True}})
        await visits.delete_one({"n": 2})
        seen = sorted(d["n"] for d in await visits.find({"seen": True}).to_list())
        assert seen == [0, 1, 3, 4]
        assert _recorded(database_path(data_dir)) == 0
    finally:
        await client.close()


async def test_the_wire_server_opens_no_change_stream(own_store: tuple[str, Path]) -> None:
    """Why the outbox is pure cost for the app: no client of the store can read it."""
    uri, _ = own_store
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        with pytest.raises(OperationFailure, match="changeStream"):
            await client["watched"]["visits"].watch()
    finally:
        await client.close()


def test_a_change_stream_opened_in_process_still_hears_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-process client of the engine may watch: its first watcher restores the
    engine's bookkeeping, and the stream hears every write from then on."""
    apply_engine_fixes()
    monkeypatch.setitem(unwatched_changes._WATCHED, "ever", False)
    path = tmp_path / "watched.sqlite"
    client = mongoeco.MongoClient(SQLiteEngine(str(path)))
    try:
        visits = client["watched"]["visits"]
        visits.insert_one({"n": 0})
        assert _recorded(path) == 0
        stream = visits.watch(max_await_time_ms=50)
        visits.insert_one({"n": 1})
        visits.update_one({"n": 1}, {"$set": {"seen": True}})
        first, second = stream.try_next(), stream.try_next()
        stream.close()
        assert first is not None and second is not None
        assert first["operationType"] == "insert" and first["fullDocument"]["n"] == 1
        assert second["operationType"] == "update"
        assert second["documentKey"] == first["documentKey"]
        assert _recorded(path) >= 2
    finally:
        client.close()

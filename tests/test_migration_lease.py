"""Start-up migrations when workers start together, and once they are done (issue 18: 6).

Two API processes start at the same moment on a database an older version wrote (a retired
index, slots without `slot_key`): both come up, one of them drops the index and keys the
slots under the migration lease, and each step leaves a mark, so a later start reads only
the marks instead of scanning the slots.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.store.migrations import MARKS, RETIRED_INDEXES, _steps
from tests.servers import ApiServer
from tests.test_slot_key_migration import old_slot

Store = AsyncDatabase[dict[str, Any]]
RETIRED = "slot_doctor_start_unique"


@pytest_asyncio.fixture
async def old_store(store_uri: str) -> AsyncIterator[Store]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri, tz_aware=True)
    yield client[f"aayulink_migration_lease_{uuid.uuid4().hex[:8]}"]
    await client.close()


async def _write_as_the_old_version(database: Store) -> list[ObjectId]:
    await database["slots"].create_index(
        [("doctor_id", ASCENDING), ("starts_at", ASCENDING)], name=RETIRED, unique=True
    )
    doctor_id, specialty_id = ObjectId(), ObjectId()
    day = date.today() + timedelta(days=4)
    docs = [old_slot(doctor_id, specialty_id, day, time(9 + i, 0)) for i in range(6)]
    inserted = await database["slots"].insert_many(docs)
    return list(inserted.inserted_ids)


def _start_logged(server: ApiServer, log_dir: Path) -> ApiServer:
    return server.start(log_dir)


@pytest.mark.timeout(300)
async def test_two_workers_starting_together_migrate_once(
    old_store: Store, store_uri: str, log_dir: Path
) -> None:
    slot_ids = await _write_as_the_old_version(old_store)
    workers = [
        ApiServer(store_uri, old_store.name, env={"LOG_LEVEL": "INFO"}),
        ApiServer(store_uri, old_store.name, env={"LOG_LEVEL": "INFO"}),
    ]
    try:
        # Both start at once; start() returns when the worker answers /healthz.
        await asyncio.gather(*(asyncio.to_thread(_start_logged, w, log_dir) for w in workers))
        logs = "".join(w.logs() for w in workers)
    finally:
        for worker in workers:
            worker.stop()

    names = {index["name"] async for index in await old_store["slots"].list_indexes()}
    assert RETIRED not in names
    assert logs.count(f"dropped retired index slots.{RETIRED}") == 1, logs
    assert logs.count("gave 6 stored slots their slot_key") == 1, logs
    keyed = await old_store["slots"].count_documents(
        {"_id": {"$in": slot_ids}, "slot_key": {"$exists": True}}
    )
    assert keyed == len(slot_ids)
    marks = {doc["_id"] async for doc in old_store[MARKS].find({}, {"_id": 1})}
    assert set(_steps()) <= marks
    rewrites = {"slot-key", "booked-at", "patient-keys"}
    assert len(_steps()) == sum(len(n) for n in RETIRED_INDEXES.values()) + len(rewrites)
    assert rewrites <= set(_steps())
    lease = await old_store[MARKS].find_one({"_id": "lease"})
    assert lease is not None and lease.get("guard_until") is None  # released


@pytest.mark.timeout(300)
async def test_a_start_after_the_migrations_only_reads_their_marks(
    old_store: Store, store_uri: str, log_dir: Path
) -> None:
    """A slot without `slot_key` written after the marks is left alone: the marks, not a scan
    of the slots, decide (the current version never writes such a slot)."""
    await _write_as_the_old_version(old_store)
    ApiServer(store_uri, old_store.name).start(log_dir).stop()
    marks = await old_store[MARKS].find({}).to_list(None)
    straggler = old_slot(ObjectId(), ObjectId(), date.today() + timedelta(days=6), time(9, 0))
    straggler["slot_key"] = f"straggler-{uuid.uuid4().hex}"  # the unique index wants one
    await old_store["slots"].insert_one(straggler)
    await old_store["slots"].update_one({"_id": straggler["_id"]}, {"$unset": {"slot_key": ""}})

    later = ApiServer(store_uri, old_store.name, env={"LOG_LEVEL": "INFO"}).start(log_dir)
    logs = later.logs()
    later.stop()

    assert await old_store[MARKS].find({}).to_list(None) == marks
    assert "their slot_key" not in logs
    assert await old_store["slots"].count_documents({"slot_key": {"$exists": False}}) == 1

"""The slot_key migration, run by every API process at start-up, on slots an older version wrote.

The older version had no `slot_key` and no `source`, and kept a doctor's live slots apart with a
compound unique index on (doctor_id, starts_at). A fresh database is filled that way, then API
servers start on it; the store is read directly and the API is used to book.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from app.models.slot import slot_key
from tests.graphql_client import CREATE_SLOT, Api, GraphQL
from tests.old_versions import (
    Store,
    assert_a_second_start_changes_nothing,
    old_doctor,
    old_slot,
    old_specialty,
    own_database,
)
from tests.servers import ApiServer

OLD_INDEX = "slot_doctor_start_unique"
OLD_SECONDARY_INDEXES = {
    "booking_lock.is_active_1_booking_lock.expires_at_1": [
        ("booking_lock.is_active", ASCENDING),
        ("booking_lock.expires_at", ASCENDING),
    ],
    "is_booked_1_updated_at_1": [("is_booked", ASCENDING), ("updated_at", ASCENDING)],
    "doctor_id_1_date_1_starts_at_1": [
        ("doctor_id", ASCENDING),
        ("date", ASCENDING),
        ("starts_at", ASCENDING),
    ],
    "specialty_id_1_date_1_starts_at_1": [
        ("specialty_id", ASCENDING),
        ("date", ASCENDING),
        ("starts_at", ASCENDING),
    ],
}
NEW_INDEX = "slot_key_unique"

SLOT = "query($id: ID!) { slot(id: $id) { id date startTime state doctor { id } } }"
AVAILABLE = """query($d: ID!, $date: Date!) { availableSlots(doctorId: $d, date: $date) { id } }"""
REMOVE_SLOT = "mutation($id: ID!) { removeSlot(id: $id) { id } }"


@pytest_asyncio.fixture
async def old_store(store_uri: str) -> AsyncIterator[Store]:
    async with own_database(store_uri, "aayulink_migration") as database:
        yield database


async def write_as_the_old_version(database: Store, day: date) -> tuple[ObjectId, list[ObjectId]]:
    now = datetime.now(UTC)
    specialty = old_specialty("Old Cardiology", now)
    specialty_id = (await database["specialties"].insert_one(specialty)).inserted_id
    doctor = old_doctor(specialty_id, "Dr. Old", "dr.old@example.com", "LIC-OLD-1", now)
    doctor_id = (await database["doctors"].insert_one(doctor)).inserted_id
    await database["slots"].create_index(
        [("doctor_id", ASCENDING), ("starts_at", ASCENDING)],
        unique=True,
        partialFilterExpression={"is_removed": False},
        name=OLD_INDEX,
    )
    for keys in OLD_SECONDARY_INDEXES.values():
        await database["slots"].create_index(keys)
    slots = [
        old_slot(doctor_id, specialty_id, day, time(9, 0)),
        old_slot(doctor_id, specialty_id, day, time(10, 0)),
        old_slot(doctor_id, specialty_id, day, time(11, 0)),
        # A removed slot at a live slot's time: the old partial index allowed it, so must the new.
        old_slot(doctor_id, specialty_id, day, time(9, 0), removed=True),
        # Booked an hour ago with no appointment (a crash): the reconciler must still see it.
        {
            **old_slot(doctor_id, specialty_id, day + timedelta(days=1), time(12, 0)),
            "is_booked": True,
            "updated_at": now - timedelta(hours=1),
        },
    ]
    ids = (await database["slots"].insert_many(slots)).inserted_ids
    return doctor_id, list(ids)


async def released_by_the_reconciler(database: Store, slot_id: ObjectId) -> bool:
    for _ in range(100):
        doc = await database["slots"].find_one({"_id": slot_id})
        if doc is not None and not doc["is_booked"]:
            return "booked_at" in doc
        await asyncio.sleep(0.1)
    return False


async def snapshot(database: Store) -> tuple[list[dict[str, Any]], list[Any]]:
    docs = await database["slots"].find({}).to_list(None)
    indexes = [
        (index["name"], sorted(index["key"].items()), index.get("unique"))
        async for index in await database["slots"].list_indexes()
    ]
    return sorted(docs, key=lambda d: str(d["_id"])), sorted(indexes, key=lambda i: str(i[0]))


async def test_slots_written_before_slot_key_are_migrated_at_start_up(
    old_store: Store, store_uri: str, log_dir: Path, http: httpx.AsyncClient
) -> None:
    day = date.today() + timedelta(days=5)
    doctor_id, slot_ids = await write_as_the_old_version(old_store, day)
    assert await old_store["slots"].count_documents({"slot_key": {"$exists": True}}) == 0

    server = ApiServer(store_uri, old_store.name).start(log_dir)
    try:
        # Through the store: every slot keyed, the old index gone, the new one in place.
        for doc in await old_store["slots"].find({}).to_list(None):
            assert doc["slot_key"] == slot_key(doc["doctor_id"], doc["starts_at"])
            assert doc["source"] == "MANUAL"
        names = {index["name"] async for index in await old_store["slots"].list_indexes()}
        assert OLD_INDEX not in names and NEW_INDEX in names
        assert not names & set(OLD_SECONDARY_INDEXES)
        assert {"live_locks", "bookings_to_check"} <= names
        assert await released_by_the_reconciler(old_store, slot_ids[4])

        # Through the API: the old slots read, list and lock as any slot does.
        api = Api(GraphQL(http, server.url), await Api.login_admin(GraphQL(http, server.url)))
        live = slot_ids[:3]
        for slot_id in live:
            slot = (await api.gql(SLOT, {"id": str(slot_id)})).data["slot"]
            assert slot["state"] == "AVAILABLE" and slot["doctor"]["id"] == str(doctor_id)
        listed = (await api.gql(AVAILABLE, {"d": str(doctor_id), "date": day.isoformat()})).data
        assert [s["id"] for s in listed["availableSlots"]] == [str(i) for i in live]
        patient = await api.patient()
        locked = (await api.lock(str(live[1]), patient)).data["lockSlot"]
        assert locked["state"] == "LOCKED"
        stored = await old_store["slots"].find_one({"_id": live[1]})
        assert stored is not None and stored["booking_lock"]["patient_id"] == ObjectId(patient.id)

        # A second live slot for the same doctor and start is refused by the store itself...
        duplicate = old_slot(doctor_id, stored["specialty_id"], day, time(10, 0))
        duplicate["slot_key"] = stored["slot_key"]
        with pytest.raises(DuplicateKeyError):
            await old_store["slots"].insert_one(duplicate)
        # ...and by the API.
        variables = {
            "doctorId": str(doctor_id),
            "input": {"date": day.isoformat(), "startTime": "11:00", "endTime": "11:30"},
        }
        assert (await api.gql(CREATE_SLOT, variables, api.admin.token)).code == "CONFLICT"

        # A removed slot frees its time: 11:00 can be made again once removed.
        removed = (await api.gql(REMOVE_SLOT, {"id": str(live[2])}, api.admin.token)).data
        assert removed["removeSlot"]["id"] == str(live[2])
        again = (await api.gql(CREATE_SLOT, variables, api.admin.token)).data["createSlot"]
        assert again["state"] == "AVAILABLE"
        keys = [
            (doc["is_removed"], doc["slot_key"])
            async for doc in old_store["slots"].find(
                {"starts_at": datetime.combine(day, time(11, 0), tzinfo=UTC)}
            )
        ]
        assert sorted(keys) == [(False, keys[0][1]), (True, keys[0][1])]
    finally:
        server.stop()

    await assert_a_second_start_changes_nothing(store_uri, old_store, log_dir, snapshot)
    assert await old_store["slots"].count_documents({"slot_key": {"$exists": False}}) == 0

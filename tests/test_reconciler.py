"""A slot left BOOKED without an appointment (a crash between claim and insert, or a
cancel or move whose free failed) is freed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from tests.graphql_client import Api, Person
from tests.servers import ApiServer


@pytest.fixture(scope="module")
def short_grace_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    """Its grace period (the lock TTL) is 2 s, so the repair happens within the test."""
    server = ApiServer(
        store_uri,
        db_name,
        env={"SLOT_LOCK_TTL_SECONDS": "2", "LOCK_SWEEP_INTERVAL_SECONDS": "0.3"},
    ).start(log_dir)
    yield server
    server.stop()


CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id, reason: "ill") { id status } }"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!) {
  rescheduleAppointment(id: $id, slotId: $slotId) { id status slot { id } }
}"""
SLOT_LOG = """query($id: ID!) {
  auditLog(entityId: $id) { edges { node { action actor { id } } } }
}"""
BLOCKER = "test_free_blocker"


@contextlib.asynccontextmanager
async def _freeing_refused(store: Any, slot_id: ObjectId) -> AsyncIterator[None]:
    """While open, the store refuses to free this slot with a real duplicate-key error: a
    unique index over the slots whose `is_booked` is false already holds a twin of it (a
    removed copy) under the key this slot is given. Booked, the slot is outside the index,
    so every other write to it goes through."""
    slot = await store.slots.find_one({"_id": slot_id})
    twin = {
        k: v for k, v in slot.items() if k not in ("lock_key", "lock_request", "awaiting_check")
    }
    twin |= {
        "_id": ObjectId(),
        "slot_key": f"{slot['slot_key']}-twin",
        "is_removed": True,
        "is_booked": False,
        BLOCKER: str(slot_id),
    }
    await store.slots.insert_one(twin)
    index = await store.slots.create_index(
        BLOCKER,
        unique=True,
        partialFilterExpression={"is_booked": False, BLOCKER: {"$exists": True}},
        name=BLOCKER,
    )
    await store.slots.update_one({"_id": slot_id}, {"$set": {BLOCKER: str(slot_id)}})
    try:
        yield
    finally:
        await store.slots.drop_index(index)
        await store.slots.delete_one({"_id": twin["_id"]})
        await store.slots.update_one({"_id": slot_id}, {"$unset": {BLOCKER: ""}})


async def _booked_and_checked(api: Api, store: Any, slot_id: str) -> tuple[Person, str]:
    """A booking the reconciler has already checked: its claim's mark is gone, so only a
    mark made later can bring the slot back to the reconciler's attention."""
    patient = await api.patient()
    booked = (await api.book(slot_id, patient)).data["bookAppointment"]
    for _ in range(80):
        slot = await store.slots.find_one({"_id": ObjectId(slot_id)}, {"awaiting_check": 1})
        if "awaiting_check" not in slot:
            return patient, booked["id"]
        await asyncio.sleep(0.25)
    raise AssertionError("the reconciler never checked the booking")


async def _released_by_the_server(api: Api, slot_id: str) -> list[dict[str, Any]]:
    """The reconciler's audit entries for the slot, once there are any: it writes the entry
    after the release that the test saw in the store (polled for up to 20 s)."""
    for _ in range(80):
        reply = await api.gql(SLOT_LOG, {"id": slot_id}, api.admin.token)
        nodes = [e["node"] for e in reply.data["auditLog"]["edges"]]
        released = [n for n in nodes if n["action"] == "slot.released" and n["actor"] is None]
        if released:
            return released
        await asyncio.sleep(0.25)
    return []


async def _is_booked(store: Any, slot_id: ObjectId) -> bool:
    doc = await store.slots.find_one({"_id": slot_id}, {"is_booked": 1})
    return bool(doc["is_booked"])


async def _wait_until_free(store: Any, slot_id: ObjectId, seconds: float = 20) -> bool:
    for _ in range(int(seconds / 0.25)):
        if not await _is_booked(store, slot_id):
            return True
        await asyncio.sleep(0.25)
    return False


async def test_orphaned_booking_is_released(
    api: Api, store: Any, short_grace_server: ApiServer
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "15:00", "15:30")
    slot_id = ObjectId(slot["id"])
    # What a process that died after claiming the slot, before writing the appointment, leaves.
    now = datetime.now(UTC)
    await store.slots.update_one(
        {"_id": slot_id},
        {"$set": {"is_booked": True, "booked_at": now, "awaiting_check": True, "updated_at": now}},
    )
    assert await _wait_until_free(store, slot_id)
    patient = await api.patient()
    booked = (await api.book(slot["id"], patient)).data["bookAppointment"]
    assert booked["slot"]["state"] == "BOOKED"


async def test_a_real_booking_is_left_alone(
    api: Api, store: Any, short_grace_server: ApiServer
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "16:00", "16:30")
    patient = await api.patient()
    (await api.book(slot["id"], patient)).data["bookAppointment"]
    stamp = (await store.slots.find_one({"_id": ObjectId(slot["id"])}))["updated_at"]
    # Wait past the grace period and a few sweeps, then check nothing was undone.
    past_grace = stamp.astimezone(UTC) + timedelta(seconds=4) - datetime.now(UTC)
    await asyncio.sleep(max(0.0, past_grace.total_seconds()))
    assert await _is_booked(store, ObjectId(slot["id"]))
    active = await store.appointments.count_documents(
        {"slot_id": ObjectId(slot["id"]), "status": "SCHEDULED"}
    )
    assert active == 1


async def test_a_cancel_whose_slot_could_not_be_freed_is_repaired(
    api: Api, store: Any, short_grace_server: ApiServer
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "17:00", "17:30")
    slot_id = ObjectId(slot["id"])
    patient, appointment_id = await _booked_and_checked(api, store, slot["id"])
    async with _freeing_refused(store, slot_id):
        cancelled = await api.gql(CANCEL, {"id": appointment_id}, patient.token)
        # The cancel is saved and answered; its slot could not be freed.
        assert cancelled.data["cancelAppointment"]["status"] == "CANCELLED"
        assert await _is_booked(store, slot_id), "the store did not refuse the free"
    assert await _wait_until_free(store, slot_id)
    assert len(await _released_by_the_server(api, slot["id"])) == 1
    again = await api.patient()
    rebooked = (await api.book(slot["id"], again)).data["bookAppointment"]
    assert rebooked["slot"]["state"] == "BOOKED"


async def test_a_move_whose_old_slot_could_not_be_freed_is_repaired(
    api: Api, store: Any, short_grace_server: ApiServer
) -> None:
    clinic = await api.clinic()
    old, new = await api.slot(clinic, "18:00", "18:30"), await api.slot(clinic, "19:00", "19:30")
    old_id = ObjectId(old["id"])
    patient, appointment_id = await _booked_and_checked(api, store, old["id"])
    async with _freeing_refused(store, old_id):
        moved = await api.gql(
            RESCHEDULE, {"id": appointment_id, "slotId": new["id"]}, patient.token
        )
        assert moved.data["rescheduleAppointment"]["slot"]["id"] == new["id"]
        assert await _is_booked(store, old_id), "the store did not refuse the free"
    assert await _wait_until_free(store, old_id)
    assert len(await _released_by_the_server(api, old["id"])) == 1
    assert await _is_booked(store, ObjectId(new["id"])), "the move's new slot stays booked"

"""A slot left BOOKED without an appointment (a crash between claim and insert) is freed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from tests.graphql_client import Api
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

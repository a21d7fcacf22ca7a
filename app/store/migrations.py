"""Bring stored documents up to the current models before their indexes are created."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from app.models.patient_keys import COUNTERS, DIRECTORY_COUNTER, keys_for
from app.models.slot import SlotSource, slot_key

log = logging.getLogger(__name__)
BATCH = 500
RECHECK = timedelta(days=1)
# Each secondary index costs every slot insert about 0.1 ms on the embedded store.
RETIRED_INDEXES = {
    "slots": [
        "slot_doctor_start_unique",
        "booking_lock.patient_id_1",
        # Listing by specialty reads the specialty's doctors, then slots by doctor.
        "specialty_id_1_date_1_starts_at_1",
        # Replaced by the single-field `doctor_slots`.
        "doctor_id_1_date_1_starts_at_1",
        # Replaced by the sparse `live_locks` and `bookings_to_check` indexes.
        "booking_lock.is_active_1_booking_lock.expires_at_1",
        "is_booked_1_updated_at_1",
    ],
    # Replaced by the single-field `patient_appointments` and `doctor_appointments`.
    "appointments": ["patient_id_1_starts_at_1", "doctor_id_1_starts_at_1"],
    # Replaced by the partial `user_email_unique_when_given`: walk-ins have no email.
    "users": ["user_email_unique"],
}


async def migrate(database: AsyncDatabase[dict[str, Any]]) -> None:
    """Idempotent: every API process may run it at start-up, in any order."""
    for collection, names in RETIRED_INDEXES.items():
        existing = {index["name"] async for index in await database[collection].list_indexes()}
        for name in names:
            if name in existing:
                await database[collection].drop_index(name)
                log.info("dropped retired index %s.%s", collection, name)
    await _key_slots(database)
    await _stamp_booked_slots(database)
    await key_patients(database)


async def _key_slots(database: AsyncDatabase[dict[str, Any]]) -> None:
    """Slots stored before `slot_key` existed get it, in batches (one round trip a batch)."""
    slots = database["slots"]
    missing = await slots.find(
        {"slot_key": {"$exists": False}}, {"_id": 1, "doctor_id": 1, "starts_at": 1}
    ).to_list(None)
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        await slots.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"]},
                    {
                        "$set": {
                            "slot_key": slot_key(doc["doctor_id"], doc["starts_at"]),
                            "source": SlotSource.MANUAL.value,
                        }
                    },
                )
                for doc in batch
            ],
            ordered=False,
        )
    if missing:
        log.info("gave %d stored slots their slot_key", len(missing))


async def _stamp_booked_slots(database: AsyncDatabase[dict[str, Any]]) -> None:
    """Booked slots stored before `booked_at` existed get their last change as its value; those
    changed within RECHECK are marked for the reconciler, as the old one would have checked."""
    slots = database["slots"]
    unstamped = await slots.find(
        {"is_booked": True, "booked_at": {"$exists": False}}, {"_id": 1, "updated_at": 1}
    ).to_list(None)
    recent = datetime.now(UTC) - RECHECK
    for start in range(0, len(unstamped), BATCH):
        await slots.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"]},
                    {
                        "$set": {
                            "booked_at": doc["updated_at"],
                            **(
                                {"awaiting_check": True}
                                if _aware(doc["updated_at"]) > recent
                                else {}
                            ),
                        }
                    },
                )
                for doc in unstamped[start : start + BATCH]
            ],
            ordered=False,
        )
    if unstamped:
        log.info("stamped %d booked slots with booked_at", len(unstamped))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def key_patients(database: AsyncDatabase[dict[str, Any]]) -> None:
    """Patients stored before search keys existed get theirs, in batches; then the directory
    counter moves so every process reloads (app/domain/patients/directory.py)."""
    users = database["users"]
    missing = await users.find(
        {"role": "PATIENT", "search_keys": {"$exists": False}},
        {"_id": 1, "name": 1, "email": 1, "phone": 1},
    ).to_list(None)
    for start in range(0, len(missing), BATCH):
        await users.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"]},
                    {
                        "$set": {
                            "search_keys": keys_for(
                                doc.get("name", ""), doc.get("email"), doc.get("phone")
                            )
                        }
                    },
                )
                for doc in missing[start : start + BATCH]
            ],
            ordered=False,
        )
    if missing:
        await database[COUNTERS].update_one(
            {"_id": DIRECTORY_COUNTER}, {"$inc": {"version": 1}}, upsert=True
        )
        log.info("gave %d stored patients their search keys", len(missing))

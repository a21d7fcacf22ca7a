"""Bring stored documents up to the current models before their indexes are created.

Every API process runs this at start-up. Each step, once done, leaves a mark in the
`migrations` collection: a start on an up-to-date store costs one read of the marks, however
many slots it holds. Pending steps run under a lease on that collection, so of workers
starting together one migrates while the others wait and then find the marks.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.models.patient_keys import COUNTERS, DIRECTORY_COUNTER, keys_for
from app.models.slot import SlotSource, slot_key
from app.store.guards import guarded

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
        # Replaced by `audit_owing`: the store scanned for this one's range.
        "audit_owed",
    ],
    # Replaced by the single-field `patient_appointments` and `doctor_appointments`.
    "appointments": ["patient_id_1_starts_at_1", "doctor_id_1_starts_at_1", "audit_owed"],
    # Replaced by the partial `user_email_unique_when_given`: walk-ins have no email.
    "users": ["user_email_unique"],
}


MARKS = "migrations"
LEASE_ID = "lease"
# Long enough for the slowest step on a large store; a crashed holder's lease just expires.
LEASE_SECONDS = 300
INDEX_NOT_FOUND = 27
NAMESPACE_NOT_FOUND = 26
Step = Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]


def _steps() -> dict[str, Step]:
    """Every step by the name of its mark, in the order they run."""
    steps: dict[str, Step] = {
        f"drop-index:{collection}.{name}": partial(_drop_index, collection=collection, name=name)
        for collection, names in RETIRED_INDEXES.items()
        for name in names
    }
    steps["slot-key"] = _key_slots
    steps["booked-at"] = _stamp_booked_slots
    steps["patient-keys"] = key_patients
    return steps


async def migrate(database: AsyncDatabase[dict[str, Any]]) -> None:
    """Idempotent: every API process may run it at start-up, in any order, at once."""
    steps = _steps()
    marks = database[MARKS]
    if not await _pending(marks, steps):
        return
    with contextlib.suppress(DuplicateKeyError):
        await marks.insert_one({"_id": LEASE_ID})
    async with guarded(
        marks,
        LEASE_ID,  # type: ignore[arg-type]
        "store migration",
        lease_seconds=LEASE_SECONDS,
        wait_seconds=LEASE_SECONDS + 60,  # past a crashed holder's lease: take it over
        poll_seconds=(0.2, 0.5),
    ):
        for name in await _pending(marks, steps):
            await steps[name](database)
            await marks.update_one(
                {"_id": name}, {"$set": {"done_at": datetime.now(UTC)}}, upsert=True
            )


async def _pending(marks: AsyncCollection[dict[str, Any]], steps: dict[str, Step]) -> list[str]:
    """The steps without a mark, in order: one read of the marks."""
    done = {doc["_id"] async for doc in marks.find({}, {"_id": 1})}
    return [name for name in steps if name not in done]


async def _drop_index(database: AsyncDatabase[dict[str, Any]], collection: str, name: str) -> None:
    """An index already gone (another version dropped it, or it never existed) is fine."""
    try:
        await database[collection].drop_index(name)
    except OperationFailure as exc:
        if exc.code not in (INDEX_NOT_FOUND, NAMESPACE_NOT_FOUND) and "not found" not in str(exc):
            raise
        return
    log.info("dropped retired index %s.%s", collection, name)


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

"""Documents as earlier versions of the app stored them, for the migration tests.

Plain dicts written with PyMongo: no Beanie here, whose start-up would create the new indexes
before the API server under test could migrate.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.models.slot import slot_key
from tests.servers import ApiServer

Store = AsyncDatabase[dict[str, Any]]


@asynccontextmanager
async def own_database(store_uri: str, prefix: str) -> AsyncIterator[Store]:
    """A database of its own, so the migration sees only what the test wrote."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri, tz_aware=True)
    try:
        yield client[f"{prefix}_{uuid.uuid4().hex[:8]}"]
    finally:
        await client.close()


def old_specialty(name: str, written_at: datetime) -> dict[str, Any]:
    """A specialty as the versions before these migrations stored it."""
    return {
        "name": name,
        "name_key": name.lower(),
        "description": None,
        "is_active": True,
        "created_at": written_at,
        "updated_at": written_at,
    }


def old_doctor(
    specialty_id: ObjectId, name: str, email: str, license_number: str, written_at: datetime
) -> dict[str, Any]:
    """A doctor in UTC, fee 300, as the versions before these migrations stored one."""
    return {
        "name": name,
        "email": email,
        "phone": None,
        "specialty_id": specialty_id,
        "license_number": license_number,
        "consultation_fee": 300.0,
        "is_active": True,
        "profile_image": None,
        "timezone": "UTC",
        "created_at": written_at,
        "updated_at": written_at,
    }


def old_slot(
    doctor_id: ObjectId, specialty_id: ObjectId, day: date, at: time, removed: bool = False
) -> dict[str, Any]:
    """A 30-minute slot as the version before slot keys stored it: no slot_key, no source."""
    starts_at = datetime.combine(day, at, tzinfo=UTC)
    ends_at = starts_at + timedelta(minutes=30)
    return {
        "doctor_id": doctor_id,
        "specialty_id": specialty_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "date": day.isoformat(),
        "start_time": starts_at.strftime("%H:%M"),
        "end_time": ends_at.strftime("%H:%M"),
        "duration_minutes": 30,
        "is_available": not removed,
        "is_booked": False,
        "is_removed": removed,
        "doctor_is_active": True,
        "booking_lock": {
            "patient_id": None,
            "locked_at": None,
            "expires_at": None,
            "is_active": False,
        },
        "created_at": starts_at - timedelta(days=30),
        "updated_at": starts_at - timedelta(days=30),
    }


def keyed_slot(doctor_id: ObjectId, specialty_id: ObjectId, day: date, at: time) -> dict[str, Any]:
    """A live slot made by hand as the versions since slot keys store it."""
    slot = old_slot(doctor_id, specialty_id, day, at)
    return {**slot, "source": "MANUAL", "slot_key": slot_key(doctor_id, slot["starts_at"])}  # type: ignore[arg-type]


async def assert_a_second_start_changes_nothing[T](
    store_uri: str, database: Store, log_dir: Path, read: Callable[[Store], Awaitable[T]]
) -> None:
    """A migration is idempotent: another API server starting on the migrated database (and
    running every migration again) leaves what `read` sees as it was."""
    before = await read(database)
    ApiServer(store_uri, database.name).start(log_dir).stop()
    assert await read(database) == before

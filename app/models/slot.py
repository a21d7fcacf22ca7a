"""A doctor's availability slot and the short-lived lock a patient holds on it."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument


class BookingLock(BaseModel):
    patient_id: PydanticObjectId | None = None
    locked_at: datetime | None = None
    expires_at: datetime | None = None
    is_active: bool = False


class Slot(TimestampedDocument):
    doctor_id: PydanticObjectId
    specialty_id: PydanticObjectId
    starts_at: datetime
    ends_at: datetime
    date: str  # "YYYY-MM-DD" in the doctor's time zone
    start_time: str  # "HH:MM" in the doctor's time zone
    end_time: str
    duration_minutes: int
    is_available: bool = True
    is_booked: bool = False
    is_removed: bool = False
    # Copied from the doctor, so every claim's filter can refuse an inactive doctor's slot.
    doctor_is_active: bool = True
    booking_lock: BookingLock = BookingLock()

    class Settings:
        name = "slots"
        indexes = [
            IndexModel(
                [("doctor_id", ASCENDING), ("starts_at", ASCENDING)],
                unique=True,
                partialFilterExpression={"is_removed": False},
                name="slot_doctor_start_unique",
            ),
            IndexModel([("doctor_id", ASCENDING), ("date", ASCENDING), ("starts_at", ASCENDING)]),
            IndexModel(
                [("specialty_id", ASCENDING), ("date", ASCENDING), ("starts_at", ASCENDING)]
            ),
            IndexModel(
                [("booking_lock.is_active", ASCENDING), ("booking_lock.expires_at", ASCENDING)]
            ),
            IndexModel([("booking_lock.patient_id", ASCENDING)]),
            IndexModel([("is_booked", ASCENDING), ("updated_at", ASCENDING)]),
        ]

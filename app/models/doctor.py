"""A doctor whose slots patients book."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument
from app.models.schedule import Schedule


class Doctor(TimestampedDocument):
    name: str
    email: str
    phone: str | None = None
    specialty_id: PydanticObjectId
    license_number: str
    consultation_fee: float = 0.0
    is_active: bool = True
    profile_image: str | None = None
    timezone: str = "UTC"
    # Booking policy; None takes the clinic's default from settings.
    min_notice_minutes: int | None = None
    max_days_ahead: int | None = None
    schedule: Schedule | None = None
    # The last date ("YYYY-MM-DD", doctor's zone) through which schedule slots exist.
    horizon_end: str | None = None
    # Set by a time zone move that regenerated only its first days: generated slots from
    # this instant on still follow the old zone until the horizon roll reaches them.
    regenerating_from: datetime | None = None

    class Settings:
        use_state_management = True  # save_changes() sets only what changed
        name = "doctors"
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="doctor_email_unique"),
            IndexModel([("license_number", ASCENDING)], unique=True, name="doctor_license_unique"),
            IndexModel([("specialty_id", ASCENDING), ("is_active", ASCENDING)]),
        ]

"""A doctor whose slots patients book."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument


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

    class Settings:
        use_state_management = True  # save_changes() sets only what changed
        name = "doctors"
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="doctor_email_unique"),
            IndexModel([("license_number", ASCENDING)], unique=True, name="doctor_license_unique"),
            IndexModel([("specialty_id", ASCENDING), ("is_active", ASCENDING)]),
        ]

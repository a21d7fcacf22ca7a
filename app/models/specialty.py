"""A medical specialty doctors belong to."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument


class Specialty(TimestampedDocument):
    name: str
    name_key: str  # lower-cased name: what makes "Cardiology" and "cardiology" the same specialty
    description: str | None = None
    is_active: bool = True

    class Settings:
        use_state_management = True  # save_changes() sets only what changed
        name = "specialties"
        indexes = [IndexModel([("name_key", ASCENDING)], unique=True, name="specialty_name_unique")]

"""Who signs in: admins, doctors and patients."""

from __future__ import annotations

from enum import StrEnum

from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument


class Role(StrEnum):
    ADMIN = "ADMIN"
    DOCTOR = "DOCTOR"
    PATIENT = "PATIENT"


class User(TimestampedDocument):
    email: str  # normalized: trimmed and lower-cased
    password_hash: str
    name: str
    phone: str | None = None
    role: Role = Role.PATIENT
    doctor_id: PydanticObjectId | None = None

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="user_email_unique"),
            IndexModel([("doctor_id", ASCENDING)]),
        ]

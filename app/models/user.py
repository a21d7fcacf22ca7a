"""Who signs in: admins, doctors and patients."""

from __future__ import annotations

from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument
from app.models.notification import NotificationPreferences


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
    timezone: str | None = None  # IANA; None: the clinic's (CLINIC_TIMEZONE)
    notification_preferences: NotificationPreferences = Field(
        default_factory=NotificationPreferences
    )
    # The secret of this user's calendar feed URL; rotating it makes the old URL a 404.
    calendar_token: str | None = None

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="user_email_unique"),
            IndexModel([("doctor_id", ASCENDING)]),
            IndexModel(
                [("calendar_token", ASCENDING)],
                unique=True,
                partialFilterExpression={"calendar_token": {"$type": "string"}},
                name="user_calendar_token_unique",
            ),
        ]

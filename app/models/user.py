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
    email: str | None = None  # normalized: trimmed and lower-cased; None: a walk-in
    password_hash: str | None = None  # None: cannot sign in (a walk-in registered at the desk)
    name: str
    phone: str | None = None  # E.164 when given since phones were parsed
    role: Role = Role.PATIENT
    doctor_id: PydanticObjectId | None = None
    date_of_birth: str | None = None  # "YYYY-MM-DD"
    # A patient's normalised search keys (app/domain/patients/search_keys.py).
    search_keys: list[str] = []
    timezone: str | None = None  # IANA; None: the clinic's (CLINIC_TIMEZONE)
    notification_preferences: NotificationPreferences = Field(
        default_factory=NotificationPreferences
    )
    # The secret of this user's calendar feed URL; rotating it makes the old URL a 404.
    calendar_token: str | None = None

    class Settings:
        name = "users"
        indexes = [
            # Partial: any number of walk-ins without an email.
            IndexModel(
                [("email", ASCENDING)],
                unique=True,
                partialFilterExpression={"email": {"$type": "string"}},
                name="user_email_unique_when_given",
            ),
            IndexModel([("doctor_id", ASCENDING)]),
            IndexModel(
                [("calendar_token", ASCENDING)],
                unique=True,
                partialFilterExpression={"calendar_token": {"$type": "string"}},
                name="user_calendar_token_unique",
            ),
        ]

"""A patient's urgent request, broadcast to doctors and admins."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument
from app.models.owed_notifications import OwedNotifications


class EmergencyRequest(TimestampedDocument):
    patient_id: PydanticObjectId
    message: str
    specialty_id: PydanticObjectId | None = None
    doctor_id: PydanticObjectId | None = None
    # Written with the request; unset once the admins' outbox rows stand.
    notifications_owed: OwedNotifications | None = None

    class Settings:
        name = "emergency_requests"
        indexes = [
            # Sparse: holds only the requests whose notifications are not yet written.
            IndexModel(
                [("notifications_owed.at", ASCENDING)], sparse=True, name="notifications_owed"
            ),
        ]

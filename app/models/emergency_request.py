"""A patient's urgent request, broadcast to doctors and admins."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.models._base import TimestampedDocument


class EmergencyRequest(TimestampedDocument):
    patient_id: PydanticObjectId
    message: str
    specialty_id: PydanticObjectId | None = None
    doctor_id: PydanticObjectId | None = None

    class Settings:
        name = "emergency_requests"

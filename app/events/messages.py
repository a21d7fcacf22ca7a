"""What an event carries: the kind, the changed document as committed, and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from app.models import Appointment, EmergencyRequest, Notification, Slot


class SlotEventKind(StrEnum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    LOCKED = "LOCKED"
    UNLOCKED = "UNLOCKED"
    BOOKED = "BOOKED"
    RELEASED = "RELEASED"
    AVAILABILITY_CHANGED = "AVAILABILITY_CHANGED"


class AppointmentEventKind(StrEnum):
    CREATED = "CREATED"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    STATUS_CHANGED = "STATUS_CHANGED"
    RESCHEDULED = "RESCHEDULED"
    CHECKED_IN = "CHECKED_IN"


class SlotChanged(BaseModel):
    topic: Literal["slot"] = "slot"
    kind: SlotEventKind
    slot: Slot
    at: datetime


class AppointmentChanged(BaseModel):
    topic: Literal["appointment"] = "appointment"
    kind: AppointmentEventKind
    appointment: Appointment
    at: datetime
    # A rescheduled appointment's doctor before the move, so that doctor hears it left.
    previous_doctor_id: PydanticObjectId | None = None


class EmergencyRaised(BaseModel):
    topic: Literal["emergency"] = "emergency"
    request: EmergencyRequest
    at: datetime


class NotificationSent(BaseModel):
    """An in-app notification reached its recipient's inbox: only that user hears it."""

    topic: Literal["notification"] = "notification"
    notification: Notification
    at: datetime


class EventsMissedReason(StrEnum):
    """Why a `Resync` went out; clients read it in the `eventsMissed` subscription."""

    REDIS_RECONNECTED = "REDIS_RECONNECTED"  # this process's subscription broke and came back
    PUBLISH_FAILED = "PUBLISH_FAILED"  # some process's publishes did not reach the others
    # One doctor's slots changed in bulk (schedule, time zone, specialty, activation): one
    # notice instead of an event per slot, which would overflow every subscriber's queue.
    SLOTS_CHANGED_IN_BULK = "SLOTS_CHANGED_IN_BULK"


class Resync(BaseModel):
    """Subscribers may have missed events (Redis stalled or a publish did not get through).

    Clients hear it through the `eventsMissed` subscription and should re-query.
    """

    topic: Literal["resync"] = "resync"
    at: datetime
    # A notice that does not say why (made without a reason) counts as a link that came back.
    reason: EventsMissedReason = EventsMissedReason.REDIS_RECONNECTED
    # SLOTS_CHANGED_IN_BULK: whose slots; read models drop only that doctor's days.
    doctor_id: PydanticObjectId | None = None


class CacheInvalidated(BaseModel):
    """A committed change with no per-document event: a doctor or specialty edit, or slots
    changed in bulk. Per-process read models drop what they hold of it and re-read on demand;
    subscribers never see it."""

    topic: Literal["invalidate"] = "invalidate"
    at: datetime
    catalog: bool = False  # doctors or specialties changed
    doctor_id: PydanticObjectId | None = None  # this doctor's slots changed...
    dates: list[str] | None = None  # ...on these dates ("YYYY-MM-DD"); None: any date
    patients: bool = False  # a patient's search keys changed (app/domain/patients/directory.py)
    patient_id: PydanticObjectId | None = None  # ...a new patient's, added without a reload


class SessionsRevoked(BaseModel):
    """Sign-in sessions (refresh-token families) that ended: logout, a reused refresh token, a
    password change. Every process refuses their access tokens and ends their subscriptions;
    subscribers never see it."""

    topic: Literal["sessions_revoked"] = "sessions_revoked"
    at: datetime
    session_ids: list[str]


Event = Annotated[
    SlotChanged
    | AppointmentChanged
    | EmergencyRaised
    | NotificationSent
    | Resync
    | CacheInvalidated
    | SessionsRevoked,
    Field(discriminator="topic"),
]

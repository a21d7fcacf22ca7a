"""A patient's appointment in a slot, and the statuses it moves through."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument
from app.models.owed_audit import OwedAudit
from app.models.owed_notifications import OwedNotifications


class AppointmentStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CONFIRMED = "CONFIRMED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"


ACTIVE_STATUSES = [s.value for s in AppointmentStatus if s is not AppointmentStatus.CANCELLED]


class Appointment(TimestampedDocument):
    patient_id: PydanticObjectId
    doctor_id: PydanticObjectId
    slot_id: PydanticObjectId
    specialty_id: PydanticObjectId
    appointment_date: str
    appointment_time: str
    starts_at: datetime
    ends_at: datetime
    status: AppointmentStatus = AppointmentStatus.SCHEDULED
    reason_for_visit: str | None = None
    notes: str | None = None
    virtual_meeting_link: str | None = None
    end_time: str | None = None  # "HH:MM" in the doctor's zone; None on appointments made before
    cancellation_reason: str | None = None
    cancelled_at: datetime | None = None
    cancelled_by: PydanticObjectId | None = None
    checked_in_at: datetime | None = None  # the patient arrived (front desk or doctor)
    no_show_at: datetime | None = None  # when it was marked NO_SHOW; None again once undone
    # "<patient id>|<client key>": a retried booking finds its first appointment by it.
    idempotency_key: str | None = None
    # The latest keyed cancel or reschedule: "<caller id>|<client key>" and what it asked for.
    change_key: str | None = None
    change_request: str | None = None
    # Grows with each announced change: the iCalendar SEQUENCE, and part of notification keys.
    sequence: int = 0
    # When it took its current slot (None: at created_at): reminders whose time had passed
    # by then are not sent.
    placed_at: datetime | None = None
    # Each change that notifies pushes itself here; pulled once its outbox rows are written.
    notifications_owed: OwedNotifications | None = None
    # A booking's audit entries, written with the appointment and moved into the log soon after.
    # Read, never dumped: not in events, answers or Beanie's writes (the store's own record).
    audit_owed: OwedAudit | None = Field(default=None, exclude=True)

    class Settings:
        name = "appointments"
        indexes = [
            # The last guard against double booking: one active appointment per slot.
            IndexModel(
                [("slot_id", ASCENDING)],
                unique=True,
                partialFilterExpression={"status": {"$in": ACTIVE_STATUSES}},
                name="appointment_active_slot_unique",
            ),
            IndexModel(
                [("idempotency_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
                name="appointment_idempotency_key_unique",
            ),
            IndexModel(
                [("change_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"change_key": {"$type": "string"}},
                name="appointment_change_key_unique",
            ),
            # Single-field, not (patient_id, starts_at): the embedded memory engine uses an
            # index for a single-field equality only, and without one every booking's overlap
            # check scanned the whole collection (67 ms at 10,000 appointments, growing with
            # it). A patient's or doctor's appointments are few enough to filter and sort.
            IndexModel([("patient_id", ASCENDING)], name="patient_appointments"),
            IndexModel([("doctor_id", ASCENDING)], name="doctor_appointments"),
            IndexModel([("starts_at", ASCENDING), ("_id", ASCENDING)]),
            # Sparse: holds only the changes whose notifications are not yet written.
            IndexModel(
                [("notifications_owed.at", ASCENDING)], sparse=True, name="notifications_owed"
            ),
            IndexModel([("audit_owed.owing", ASCENDING)], sparse=True, name="audit_owing"),
        ]

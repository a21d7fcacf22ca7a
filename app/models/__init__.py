"""Beanie documents: what the store holds."""

from app.models.appointment import ACTIVE_STATUSES, Appointment, AppointmentStatus
from app.models.audit_entry import AuditEntry
from app.models.doctor import Doctor
from app.models.emergency_request import EmergencyRequest
from app.models.lease import Lease
from app.models.notification import (
    DeliveryStatus,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationPreferences,
)
from app.models.refresh_token import RefreshToken
from app.models.schedule import DateOverride, Schedule, TimeRange, Weekday, WeeklyHours
from app.models.sending_batch import SendingBatch
from app.models.slot import BookingLock, Slot, SlotSource
from app.models.specialty import Specialty
from app.models.user import Role, User

DOCUMENT_MODELS = [
    Specialty,
    Doctor,
    Slot,
    Appointment,
    User,
    RefreshToken,
    EmergencyRequest,
    DateOverride,
    AuditEntry,
    Lease,
    Notification,
    SendingBatch,
]

__all__ = [
    "ACTIVE_STATUSES",
    "DOCUMENT_MODELS",
    "Appointment",
    "AppointmentStatus",
    "AuditEntry",
    "BookingLock",
    "DateOverride",
    "DeliveryStatus",
    "Doctor",
    "EmergencyRequest",
    "Lease",
    "Notification",
    "NotificationChannel",
    "NotificationKind",
    "NotificationPreferences",
    "RefreshToken",
    "Role",
    "Schedule",
    "SendingBatch",
    "Slot",
    "SlotSource",
    "Specialty",
    "TimeRange",
    "User",
    "Weekday",
    "WeeklyHours",
]

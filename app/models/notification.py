"""The notification outbox: one message to one recipient on one channel, and its delivery."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from app.core.clock import utcnow


class NotificationKind(StrEnum):
    BOOKED = "BOOKED"
    CONFIRMED = "CONFIRMED"
    RESCHEDULED = "RESCHEDULED"
    CANCELLED = "CANCELLED"
    REMINDER = "REMINDER"
    EMERGENCY = "EMERGENCY"


class NotificationChannel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    WEBHOOK = "WEBHOOK"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # the recipient opted out


class NotificationPreferences(BaseModel):
    """Kept on the user; `kinds` None means the role's default kinds (see recipients.py)."""

    email: bool = True
    reminders: bool = True
    kinds: list[NotificationKind] | None = None
    # The last change: an unsubscribe link from an email older than that is stale.
    changed_at: datetime | None = None


class Notification(Document):
    """Written with the change it announces, keyed so one change makes exactly one row per
    recipient, kind and channel (a retried write inserts nothing new)."""

    key: str
    kind: NotificationKind
    channel: NotificationChannel
    status: DeliveryStatus = DeliveryStatus.PENDING
    recipient_id: PydanticObjectId | None = None  # None: a webhook, to the clinic's systems
    target: str | None = None  # the webhook URL
    appointment_id: PydanticObjectId | None = None
    emergency_id: PydanticObjectId | None = None
    sequence: int = 0  # the appointment's change number when written (the .ics SEQUENCE)
    # RESCHEDULED: where it was; REMINDER: minutes before the start.
    previous_starts_at: datetime | None = None
    offset_minutes: int | None = None
    subject: str = ""
    body: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    due_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    read_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    # A sender's claim: others leave the row alone until `claim_until`.
    claim: str | None = None
    claim_until: datetime | None = None

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("key", ASCENDING)], unique=True, name="notification_key_unique"),
            # Single-field: the embedded engine uses an index for one-field equality only.
            IndexModel([("status", ASCENDING)], name="notification_status"),
            IndexModel([("recipient_id", ASCENDING)], name="notification_recipient"),
            IndexModel([("appointment_id", ASCENDING)], name="notification_appointment"),
        ]

"""Writes the notifications an announced change implies, right after the change itself.

One insert_many per change, unordered, of rows whose unique `key` names the change (its
appointment and change number), the kind, the recipient and the channel: a retried or
repeated write inserts nothing twice. Preferences are applied when sending (SKIPPED), so
the write path reads nothing but, for a doctor not seen in the last minute, its login.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import BulkWriteError, PyMongoError

from app.domain.all_or_nothing import fault_after
from app.domain.notifications import owed
from app.domain.notifications.recipients import admin_ids, doctor_user
from app.events.messages import AppointmentChanged, AppointmentEventKind, EmergencyRaised, Event
from app.models import (
    Appointment,
    DeliveryStatus,
    EmergencyRequest,
    Notification,
    NotificationChannel,
    NotificationKind,
)
from app.settings import get_settings
from app.store import lanes

log = logging.getLogger(__name__)
DUPLICATE_KEY = 11000
PERSON_CHANNELS = (NotificationChannel.IN_APP, NotificationChannel.EMAIL)

_failed_writes = 0
# Set when this process wrote notifications: its sender, if it is the one, need not wait.
written = asyncio.Event()

_KINDS = {
    AppointmentEventKind.CREATED: NotificationKind.BOOKED,
    AppointmentEventKind.CONFIRMED: NotificationKind.CONFIRMED,
    AppointmentEventKind.RESCHEDULED: NotificationKind.RESCHEDULED,
    AppointmentEventKind.CANCELLED: NotificationKind.CANCELLED,
}


def failed_writes() -> int:
    return _failed_writes


def target_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def row(
    key: str,
    kind: NotificationKind,
    channel: NotificationChannel,
    at: datetime,
    **fields: Any,
) -> dict[str, Any]:
    """A plain document in Notification's shape: rows are written in bulk, unvalidated."""
    return {
        "key": key,
        "kind": kind.value,
        "channel": channel.value,
        "status": DeliveryStatus.PENDING.value,
        "recipient_id": None,
        "target": None,
        "appointment_id": None,
        "emergency_id": None,
        "sequence": 0,
        "previous_starts_at": None,
        "offset_minutes": None,
        "subject": "",
        "body": "",
        "created_at": at,
        "due_at": at,
        "sent_at": None,
        "read_at": None,
        "attempts": 0,
        "last_error": None,
        "claim": None,
        "claim_until": None,
        **fields,
    }


def rows_for(
    base: str,
    kind: NotificationKind,
    at: datetime,
    people: list[PydanticObjectId],
    **fields: Any,
) -> list[dict[str, Any]]:
    """Each person in-app and by email, and each configured webhook once."""
    rows = [
        row(f"{base}:{person}:{channel.value}", kind, channel, at, recipient_id=person, **fields)
        for person in dict.fromkeys(people)
        for channel in PERSON_CHANNELS
    ]
    rows += [
        row(
            f"{base}:webhook:{target_key(url)}",
            kind,
            NotificationChannel.WEBHOOK,
            at,
            target=url,
            **fields,
        )
        for url in get_settings().webhook_urls
    ]
    return rows


class PartlyWritten(PyMongoError):
    """Some rows of a write were refused for another reason than already being there."""


async def write_rows(rows: list[dict[str, Any]]) -> int:
    """Inserts what is new; rows already written (same key) are left as they are. Raises
    when any row is neither written now nor already there."""
    if not rows:
        return 0
    try:
        result = await lanes.collection(Notification).insert_many(rows, ordered=False)
        inserted = len(result.inserted_ids)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise PartlyWritten(f"notification write failed in part: {errors[:3]}") from exc
        inserted = int(exc.details.get("nInserted", 0))
    if inserted:
        written.set()
    return inserted


async def insert_rows(rows: list[dict[str, Any]]) -> int:
    """write_rows for a caller whose change already happened: a failure is logged and
    counted, never raised."""
    global _failed_writes
    try:
        return await write_rows(rows)
    except PyMongoError:
        _failed_writes += 1
        log.exception("notification write failed: %s", rows[0]["key"])
        return 0


async def appointment_rows(
    kind: NotificationKind,
    appointment: Appointment,
    at: datetime,
    previous_doctor_id: PydanticObjectId | None = None,
    previous_starts_at: datetime | None = None,
) -> list[dict[str, Any]]:
    assert appointment.id is not None
    people = [appointment.patient_id]
    doctors = [appointment.doctor_id]
    if kind is NotificationKind.RESCHEDULED and previous_doctor_id not in (None, *doctors):
        doctors.append(previous_doctor_id)  # type: ignore[arg-type]
    if kind is not NotificationKind.CONFIRMED:
        for doctor_id in doctors:
            login = await doctor_user(doctor_id)
            # A doctor who cancelled needs no word of it.
            if login is not None and not (
                kind is NotificationKind.CANCELLED and appointment.cancelled_by == login
            ):
                people.append(login)
    return rows_for(
        f"appointment:{appointment.id}:{appointment.sequence}:{kind.value}",
        kind,
        at,
        people,
        appointment_id=appointment.id,
        sequence=appointment.sequence,
        previous_starts_at=previous_starts_at,
    )


async def announce(*events: Event, previous_starts_at: datetime | None = None) -> None:
    """The notifications these events imply, written before the events go out. Each change
    recorded itself on its document as owing them; once the rows stand, those entries are
    let go (in a batch, by the sender loop). A failure leaves them for the sender to write.
    Nothing while notifications are off (NOTIFICATIONS_ENABLED)."""
    global _failed_writes
    if not get_settings().notifications_enabled:
        return
    rows: list[dict[str, Any]] = []
    changed: list[tuple[Appointment, NotificationKind]] = []
    raised: list[EmergencyRequest] = []
    try:
        for event in events:
            if isinstance(event, AppointmentChanged) and event.kind in _KINDS:
                changed.append((event.appointment, _KINDS[event.kind]))
                rows += await appointment_rows(
                    _KINDS[event.kind],
                    event.appointment,
                    event.at,
                    event.previous_doctor_id,
                    previous_starts_at,
                )
            elif isinstance(event, EmergencyRaised):
                raised.append(event.request)
                rows += await emergency_rows(event.request)
        await fault_after("notifications")
        await write_rows(rows)
    except PyMongoError:
        _failed_writes += 1
        log.exception("the notifications of %d change(s) are left owed", len(events))
        return
    # Each change's own entry, by its change number (the write that made it counted it up).
    for appointment, kind in changed:
        if owed.holds(appointment.notifications_owed, appointment.sequence, kind):
            owed.settled_change(Appointment, appointment.id, appointment.sequence, kind)
    for request in raised:
        if owed.holds(request.notifications_owed, 0, NotificationKind.EMERGENCY):
            owed.settled_change(EmergencyRequest, request.id, 0, NotificationKind.EMERGENCY)


async def emergency_rows(request: EmergencyRequest) -> list[dict[str, Any]]:
    return rows_for(
        f"emergency:{request.id}:{NotificationKind.EMERGENCY.value}",
        NotificationKind.EMERGENCY,
        request.created_at,
        await admin_ids(),
        emergency_id=request.id,
    )

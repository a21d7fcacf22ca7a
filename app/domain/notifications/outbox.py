"""The notification rows a change implies, written by the sender from the change's mark.

A change records what it owes on its own document, in the write it makes anyway (owed.py);
the sender turns the marks into rows with one unordered insert_many per pass. Each row's
unique `key` names the change (its appointment and change number), the kind, the recipient
and the channel: a retried or repeated write inserts nothing twice. Preferences are applied
as the sender writes them (on_write.py), or, for a reminder, when it is sent (SKIPPED).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import BulkWriteError, PyMongoError

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
# The embedded store serves one command at a time: a backlog pass's thousand rows in one
# insert held every booking behind it for 416 ms (measured, SQLite); a hundred take 45 ms.
ROWS_PER_WRITE = 100

# Set when there is work for this process's sender (a change that owes notifications, a row
# made due again): if it holds the lease, it need not wait for its next poll.
waiting = asyncio.Event()

_KINDS = {
    AppointmentEventKind.CREATED: NotificationKind.BOOKED,
    AppointmentEventKind.CONFIRMED: NotificationKind.CONFIRMED,
    AppointmentEventKind.RESCHEDULED: NotificationKind.RESCHEDULED,
    AppointmentEventKind.CANCELLED: NotificationKind.CANCELLED,
}


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


async def write_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inserts what is new, ROWS_PER_WRITE at a time; rows already written (same key) are
    left as they are. The rows written now; raises when any row is neither written now nor
    already there."""
    inserted: list[dict[str, Any]] = []
    for start in range(0, len(rows), ROWS_PER_WRITE):
        inserted += await _write(rows[start : start + ROWS_PER_WRITE])
    if inserted:
        waiting.set()
    return inserted


async def _write(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        await lanes.collection(Notification).insert_many(rows, ordered=False)
        return rows
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise PartlyWritten(f"notification write failed in part: {errors[:3]}") from exc
        there = {e.get("index") for e in errors}
        return [row for i, row in enumerate(rows) if i not in there]


async def insert_rows(rows: list[dict[str, Any]]) -> int:
    """write_rows for a caller whose change already happened: a failure is logged, never
    raised."""
    try:
        return len(await write_rows(rows))
    except PyMongoError:
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


def noticed(event: Event) -> None:
    """A hub watcher (app/web/lifespan.py): a change that owes notifications, made by this
    process or heard from another, wakes the sender, which writes its rows from the marks
    the change left on its document (owed_rows.py). The request that made the change
    writes nothing more: one batched write per sender pass instead of one per change."""
    if isinstance(event, EmergencyRaised) or (
        isinstance(event, AppointmentChanged) and event.kind in _KINDS
    ):
        waiting.set()


async def emergency_rows(request: EmergencyRequest) -> list[dict[str, Any]]:
    return rows_for(
        f"emergency:{request.id}:{NotificationKind.EMERGENCY.value}",
        NotificationKind.EMERGENCY,
        request.created_at,
        await admin_ids(),
        emergency_id=request.id,
    )

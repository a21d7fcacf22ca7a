"""Reminders at each of REMINDER_OFFSETS_MINUTES before an appointment's start.

The sender's lease holder looks ahead every few minutes and writes the reminder rows that
fall due soon, each keyed by appointment, change number and offset (written once however
often it looks), due at their time. One due while no process was sending is still sent
when sending resumes, if the appointment has not started; none is written for an offset
that had passed when the appointment took its slot. At send time a reminder for an
appointment since cancelled, moved or started is SKIPPED.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.core.clock import utcnow
from app.domain.notifications.outbox import insert_rows, rows_for
from app.models import Appointment, AppointmentStatus, NotificationKind
from app.settings import Settings
from app.store import lanes

REMINDED_STATUSES = [AppointmentStatus.SCHEDULED.value, AppointmentStatus.CONFIRMED.value]
# The look is a range read over appointments' start times, which the embedded store serves by
# scanning (about 1-3 s at 50,000 appointments): it runs every CHECK_SECONDS and writes the
# rows due within LOOK_AHEAD, each due at its own time, so reminders still go out on time.
CHECK_SECONDS = 300.0
LOOK_AHEAD = timedelta(seconds=CHECK_SECONDS + 120)

# Keys this process wrote lately: looking again does not write them again.
_written: dict[str, datetime] = {}


def still_due(appointment: Appointment, sequence: int, now: datetime) -> bool:
    """Whether a reminder written for this change of the appointment should still go out."""
    return (
        appointment.status.value in REMINDED_STATUSES
        and appointment.sequence == sequence
        and appointment.starts_at > now
    )


async def schedule_reminders(settings: Settings) -> int:
    offsets = settings.reminder_offsets_minutes
    if not offsets:
        return 0
    now = utcnow()
    horizon = now + timedelta(minutes=max(offsets)) + LOOK_AHEAD
    # No `$in` on status: the store would scan the collection once per value.
    upcoming = await lanes.find(Appointment, {"starts_at": {"$gt": now, "$lte": horizon}})
    rows: list[dict[str, Any]] = []
    for appointment in upcoming:
        if appointment.status.value not in REMINDED_STATUSES:
            continue
        placed = appointment.placed_at or appointment.created_at
        for minutes in offsets:
            due = appointment.starts_at - timedelta(minutes=minutes)
            if due > now + LOOK_AHEAD or due < placed:
                continue
            base = (
                f"appointment:{appointment.id}:{appointment.sequence}:"
                f"{NotificationKind.REMINDER.value}:{minutes}"
            )
            if base in _written:
                continue
            _written[base] = appointment.starts_at
            rows += [
                {**r, "due_at": due}
                for r in rows_for(
                    base,
                    NotificationKind.REMINDER,
                    now,
                    [appointment.patient_id],
                    appointment_id=appointment.id,
                    sequence=appointment.sequence,
                    offset_minutes=minutes,
                )
            ]
    for key in [k for k, starts in _written.items() if starts <= now]:
        del _written[key]
    return await insert_rows(rows)

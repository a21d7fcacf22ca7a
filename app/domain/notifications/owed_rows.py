"""The sender writes the notifications changes owe: documents whose oldest owed change is
older than NOTIFICATION_OWED_GRACE_SECONDS (none by default: at the next pass) get the rows
of every change they hold (idempotently, by key), and those changes are let go. A pass
killed half-way leaves the marks, and the next writes what is missing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.domain.all_or_nothing import fault_after
from app.domain.notifications import on_write, owed
from app.domain.notifications.outbox import appointment_rows, emergency_rows, write_rows
from app.events.publisher import publish
from app.models import Appointment, EmergencyRequest, NotificationKind
from app.models.owed_notifications import OwedChange
from app.store import lanes


async def write_owed(grace_seconds: float, limit: int) -> int:
    """The rows of documents owing changes older than the grace period, written, and those
    changes let go. Returns how many documents it read: at most `limit` of each kind, so
    more may be owed when it reaches `limit`."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    rows: list[dict[str, Any]] = []
    # What to let go of once the rows stand: the model, the document's id, its change, and
    # whether the document owed that change alone (owed.settled).
    repaired: list[tuple[owed.Owing, PydanticObjectId | None, OwedChange, bool]] = []
    appointments = await _owing(Appointment, cutoff, limit)
    requests = await _owing(EmergencyRequest, cutoff, limit)
    for appointment in appointments:
        assert appointment.notifications_owed is not None
        changes = appointment.notifications_owed.changes
        alone = len(changes) == 1 and changes[0].sequence == appointment.sequence
        for change in changes:
            as_changed = appointment.model_copy(update={"sequence": change.sequence})
            rows += await appointment_rows(
                NotificationKind(change.kind),
                as_changed,
                change.at,
                change.previous_doctor_id,
                change.previous_starts_at,
            )
            repaired.append((Appointment, appointment.id, change, alone))
        if not appointment.notifications_owed.changes:
            owed.nothing_left(Appointment, appointment.id)
    for request in requests:
        assert request.notifications_owed is not None
        if not request.notifications_owed.changes:
            owed.nothing_left(EmergencyRequest, request.id)
            continue
        rows += await emergency_rows(request)  # a request is one change: it is raised
        for change in request.notifications_owed.changes:
            repaired.append((EmergencyRequest, request.id, change, False))
    if repaired:
        await fault_after("notifications")
        now = utcnow()
        await on_write.settle_on_write(rows, now)
        await publish(*on_write.announced(await write_rows(rows), now))
    for model, document_id, change, alone in repaired:
        owed.settled(model, document_id, change, alone)
    await owed.unset_settled()
    return len(appointments) + len(requests)


async def _owing[T: (Appointment, EmergencyRequest)](
    model: type[T], cutoff: datetime, limit: int
) -> list[T]:
    """Through the sparse `notifications_owed` index: only documents owing something."""
    return await lanes.find(model, {"notifications_owed.at": {"$lte": cutoff}}, limit=limit)

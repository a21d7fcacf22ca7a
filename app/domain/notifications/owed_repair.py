"""The sender's repair of changes whose process died before writing their notifications:
documents whose oldest owed change is older than NOTIFICATION_OWED_GRACE_SECONDS get the
rows of every change they hold (idempotently, by key), and those changes are let go."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.domain.notifications import owed
from app.domain.notifications.outbox import appointment_rows, emergency_rows, write_rows
from app.models import Appointment, EmergencyRequest, NotificationKind
from app.models.owed_notifications import OwedChange
from app.store import lanes

log = logging.getLogger(__name__)


async def write_owed(grace_seconds: float, limit: int = 200) -> int:
    """The rows of documents owing changes older than the grace period, written, and those
    changes let go. Returns how many changes were repaired."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    rows: list[dict[str, Any]] = []
    # What to let go of once the rows stand: (the model, the document's id, its change).
    repaired: list[tuple[owed.Owing, PydanticObjectId | None, OwedChange]] = []
    for appointment in await _owing(Appointment, cutoff, limit):
        assert appointment.notifications_owed is not None
        for change in appointment.notifications_owed.changes:
            as_changed = appointment.model_copy(update={"sequence": change.sequence})
            rows += await appointment_rows(
                NotificationKind(change.kind),
                as_changed,
                change.at,
                change.previous_doctor_id,
                change.previous_starts_at,
            )
            repaired.append((Appointment, appointment.id, change))
        if not appointment.notifications_owed.changes:
            owed.nothing_left(Appointment, appointment.id)
    for request in await _owing(EmergencyRequest, cutoff, limit):
        assert request.notifications_owed is not None
        if not request.notifications_owed.changes:
            owed.nothing_left(EmergencyRequest, request.id)
            continue
        rows += await emergency_rows(request)  # a request is one change: it is raised
        for change in request.notifications_owed.changes:
            repaired.append((EmergencyRequest, request.id, change))
    if repaired:
        await write_rows(rows)
        log.warning("wrote the notifications owed by %d change(s) a process left", len(repaired))
    for model, document_id, change in repaired:
        owed.settled(model, document_id, change)
    await owed.unset_settled()
    return len(repaired)


async def _owing[T: (Appointment, EmergencyRequest)](
    model: type[T], cutoff: datetime, limit: int
) -> list[T]:
    """Through the sparse `notifications_owed` index: only documents owing something."""
    return await lanes.find(model, {"notifications_owed.at": {"$lte": cutoff}}, limit=limit)

"""The sender's repair of a change whose process died before writing its notifications:
marks older than NOTIFICATION_OWED_GRACE_SECONDS get their rows (idempotently, by key)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from app.core.clock import utcnow
from app.domain.notifications import owed
from app.domain.notifications.outbox import appointment_rows, write_rows
from app.models import Appointment, NotificationKind

log = logging.getLogger(__name__)


async def write_owed(grace_seconds: float, limit: int = 200) -> int:
    """The rows of marks older than the grace period, written, and those marks unset."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    found = (
        await Appointment.find({"notifications_owed.at": {"$lte": cutoff}}).limit(limit).to_list()
    )
    rows: list[dict[str, Any]] = []
    for appointment in found:
        left = appointment.notifications_owed
        assert left is not None
        as_changed = appointment.model_copy(update={"sequence": left.sequence})
        rows += await appointment_rows(
            NotificationKind(left.kind),
            as_changed,
            left.at,
            left.previous_doctor_id,
            left.previous_starts_at,
        )
    if not found:
        return 0
    await write_rows(rows)
    log.warning("wrote the notifications owed by %d change(s) a process left", len(found))
    for appointment in found:
        owed.settled(appointment)
    await owed.unset_settled()
    return len(found)

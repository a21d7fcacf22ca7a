"""When each visit status may be set: a doctor cannot start a visit long before its time, nor
mark a no-show before the patient is late, and a mistaken no-show can be undone for a day.

ADMIN is bound by these too. Each refusal is INVALID_TRANSITION, with `earliest` (or `latest`)
when time is the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.core.errors import InvalidTransition
from app.models import Appointment, AppointmentStatus
from app.settings import get_settings

S = AppointmentStatus
NO_SHOW_UNDO = timedelta(hours=24)  # the contract's window, not a setting


def require_in_time(appointment: Appointment, requested: AppointmentStatus, now: datetime) -> None:
    settings = get_settings()
    current = appointment.status
    if current is S.NO_SHOW:
        marked = appointment.no_show_at or appointment.updated_at
        if now > marked + NO_SHOW_UNDO:
            raise InvalidTransition(
                current.value,
                requested.value,
                latest=marked + NO_SHOW_UNDO,
                reason="A no-show can be undone only within 24 hours",
            )
        return
    if requested is S.IN_PROGRESS:
        earliest = appointment.starts_at - timedelta(minutes=settings.visit_start_early_minutes)
        if now < earliest:
            raise InvalidTransition(
                current.value,
                requested.value,
                earliest=earliest,
                reason="The visit cannot start this early",
            )
    elif requested is S.NO_SHOW:
        if appointment.checked_in_at is not None:
            raise InvalidTransition(
                current.value,
                requested.value,
                reason="The patient has checked in: not a no-show",
            )
        earliest = appointment.starts_at + timedelta(minutes=settings.no_show_grace_minutes)
        if now < earliest:
            raise InvalidTransition(
                current.value,
                requested.value,
                earliest=earliest,
                reason="Too early for a no-show: the patient is not late yet",
            )


def visit_changes(
    appointment: Appointment, requested: AppointmentStatus, now: datetime
) -> dict[str, Any]:
    """The time stamps a status change writes beside the status."""
    if requested is S.NO_SHOW:
        return {"no_show_at": now}
    changes: dict[str, Any] = {}
    if appointment.status is S.NO_SHOW:
        changes["no_show_at"] = None
    if requested is S.IN_PROGRESS and appointment.checked_in_at is None:
        changes["checked_in_at"] = now  # a visit that starts has a patient who arrived
    return changes


def check_in_opens(appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(minutes=get_settings().check_in_opens_minutes)

"""The appointment status state machine: who may make each move, when, and what it writes
(the clinic's notes and meeting link, which only the doctor or an admin writes, included).

Each transition is one rule below (confirm, start the visit, complete, mark a no-show, undo
a no-show, cancel): it checks the move's time rules and returns the fields written beside
the status. A doctor cannot start a visit long before its time, nor mark a no-show before
the patient is late; a mistaken no-show can be undone for a day; a patient cancels only
before the cutoff. ADMIN is bound by the visit's time rules too. Each time refusal is
INVALID_TRANSITION (or TOO_LATE_TO_CANCEL), with `earliest` (or `latest`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.core.errors import Forbidden, InvalidTransition
from app.domain import validation
from app.domain.auth.actor import Actor
from app.domain.booking.policy import require_before_cutoff
from app.models import Appointment, AppointmentStatus, Role
from app.settings import get_settings

S = AppointmentStatus
NO_SHOW_UNDO = timedelta(hours=24)  # the contract's window, not a setting

TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    S.SCHEDULED: frozenset({S.CONFIRMED, S.CANCELLED, S.NO_SHOW}),
    S.CONFIRMED: frozenset({S.IN_PROGRESS, S.CANCELLED, S.NO_SHOW}),
    S.IN_PROGRESS: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    # Undone within NO_SHOW_UNDO: the patient turned up.
    S.NO_SHOW: frozenset({S.CONFIRMED, S.IN_PROGRESS}),
}

CLINICAL_STATUSES = frozenset({S.CONFIRMED, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW})


def can_transition(current: AppointmentStatus, requested: AppointmentStatus) -> bool:
    return requested in TRANSITIONS[current]


def may_set(role: Role, requested: AppointmentStatus) -> bool:
    """Clinical statuses are the doctor's (or an admin's); anyone involved may cancel."""
    return role is not Role.PATIENT or requested not in CLINICAL_STATUSES


@dataclass(frozen=True)
class Move:
    """A status change the state machine allows, as asked: by whom, of what, when."""

    caller: Actor
    appointment: Appointment
    requested: AppointmentStatus
    now: datetime

    def refused(self, reason: str, **when: datetime) -> InvalidTransition:
        current, requested = self.appointment.status.value, self.requested.value
        return InvalidTransition(current, requested, reason=reason, **when)


Rule = Callable[[Move], dict[str, Any]]


def confirm(move: Move) -> dict[str, Any]:
    return {}


def start_visit(move: Move) -> dict[str, Any]:
    appointment = move.appointment
    early = timedelta(minutes=get_settings().visit_start_early_minutes)
    earliest = appointment.starts_at - early
    if move.now < earliest:
        raise move.refused("The visit cannot start this early", earliest=earliest)
    return _arrived(appointment, move.now)


def complete(move: Move) -> dict[str, Any]:
    return {}


def no_show(move: Move) -> dict[str, Any]:
    appointment = move.appointment
    if appointment.checked_in_at is not None:
        raise move.refused("The patient has checked in: not a no-show")
    grace = timedelta(minutes=get_settings().no_show_grace_minutes)
    earliest = appointment.starts_at + grace
    if move.now < earliest:
        raise move.refused(
            "Too early for a no-show: the patient is not late yet", earliest=earliest
        )
    return {"no_show_at": move.now}


def undo_no_show(move: Move) -> dict[str, Any]:
    """Back to CONFIRMED or straight into the visit, within a day of the mark; the visit's
    early-start rule does not apply (the patient is late, not early)."""
    appointment = move.appointment
    latest = (appointment.no_show_at or appointment.updated_at) + NO_SHOW_UNDO
    if move.now > latest:
        raise move.refused("A no-show can be undone only within 24 hours", latest=latest)
    changes: dict[str, Any] = {"no_show_at": None}
    if move.requested is S.IN_PROGRESS:
        changes |= _arrived(appointment, move.now)
    return changes


def cancel(move: Move) -> dict[str, Any]:
    require_before_cutoff(move.caller, move.appointment, move.now)
    return {"cancelled_at": move.now, "cancelled_by": move.caller.user_id}


_RULES: dict[AppointmentStatus, Rule] = {
    S.CONFIRMED: confirm,
    S.IN_PROGRESS: start_visit,
    S.COMPLETED: complete,
    S.NO_SHOW: no_show,
    S.CANCELLED: cancel,
}


def rule_for(current: AppointmentStatus, requested: AppointmentStatus) -> Rule:
    """The rule of an allowed transition (can_transition said yes)."""
    return undo_no_show if current is S.NO_SHOW else _RULES[requested]


def _arrived(appointment: Appointment, now: datetime) -> dict[str, Any]:
    """A visit that starts has a patient who arrived."""
    return {} if appointment.checked_in_at is not None else {"checked_in_at": now}


def check_in_opens(appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(minutes=get_settings().check_in_opens_minutes)


MEETING_LINK_MAX = 2048


def clinical_field_changes(
    role: Role, notes: str | None, virtual_meeting_link: str | None
) -> dict[str, Any]:
    """The fields to set, checked; a patient sending either is refused before anything is written.

    A patient could otherwise send the other party a `javascript:` or phishing link that the
    clinic's own app shows as the consultation room.
    """
    if notes is None and virtual_meeting_link is None:
        return {}
    if role is Role.PATIENT:
        raise Forbidden("Only the doctor or an admin may set notes or the meeting link")
    changes: dict[str, Any] = {}
    if notes is not None:
        changes["notes"] = validation.optional_text(notes, "notes", validation.LONG_TEXT_MAX)
    if virtual_meeting_link is not None:
        link = validation.optional_text(
            virtual_meeting_link, "virtualMeetingLink", MEETING_LINK_MAX
        )
        changes["virtual_meeting_link"] = (
            None if link is None else validation.https_url(link, "virtualMeetingLink")
        )
    return changes

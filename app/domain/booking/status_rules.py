"""The appointment status state machine, and who may make each move."""

from __future__ import annotations

from app.models import AppointmentStatus, Role

S = AppointmentStatus

TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    S.SCHEDULED: frozenset({S.CONFIRMED, S.CANCELLED, S.NO_SHOW}),
    S.CONFIRMED: frozenset({S.IN_PROGRESS, S.CANCELLED, S.NO_SHOW}),
    S.IN_PROGRESS: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    # Undone within NO_SHOW_UNDO (app/domain/booking/visit_times.py): the patient turned up.
    S.NO_SHOW: frozenset({S.CONFIRMED, S.IN_PROGRESS}),
}

CLINICAL_STATUSES = frozenset({S.CONFIRMED, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW})


def can_transition(current: AppointmentStatus, requested: AppointmentStatus) -> bool:
    return requested in TRANSITIONS[current]


def may_set(role: Role, requested: AppointmentStatus) -> bool:
    """Clinical statuses are the doctor's (or an admin's); anyone involved may cancel."""
    return role is not Role.PATIENT or requested not in CLINICAL_STATUSES

"""Moving an appointment along its state machine: one conditional write, its audit entry and
its event; the rules of each transition live in status_rules.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import Forbidden, InvalidTransition
from app.domain import validation
from app.domain.audit.recorder import Change, changed_fields, record
from app.domain.auth.actor import Actor, require_actor
from app.domain.booking import idempotency
from app.domain.booking.appointments import get_appointment
from app.domain.booking.claims import free_slot, released_slot
from app.domain.booking.status_rules import (
    Move,
    can_transition,
    clinical_field_changes,
    may_set,
    rule_for,
)
from app.domain.notifications import owed
from app.events.messages import (
    AppointmentChanged,
    AppointmentEventKind,
    Event,
    SlotChanged,
    SlotEventKind,
)
from app.events.publisher import publish
from app.models import Appointment, AppointmentStatus, NotificationKind, Slot
from app.store.queries import appointments, slots

_EVENTS = {
    AppointmentStatus.CANCELLED: AppointmentEventKind.CANCELLED,
    AppointmentStatus.CONFIRMED: AppointmentEventKind.CONFIRMED,
}

# Bookkeeping, not a change anyone made: the audit shows what the appointment became.
_NOT_AUDITED = frozenset({"updated_at", "change_key", "change_request"})
# The status changes that notify (see app/domain/notifications/outbox.py).
_NOTIFYING = {
    AppointmentStatus.CANCELLED: NotificationKind.CANCELLED,
    AppointmentStatus.CONFIRMED: NotificationKind.CONFIRMED,
}


async def change_status(
    actor: Actor | None,
    appointment_id: str,
    requested: AppointmentStatus,
    notes: str | None = None,
    virtual_meeting_link: str | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> Appointment:
    """Move along the state machine; cancelling frees a future slot in the same step.

    With a key (cancelling takes one), a retry finds it on the appointment it reads anyway.
    """
    caller = require_actor(actor)
    cleaned_reason = (
        None
        if reason is None
        else validation.optional_text(reason, "reason", validation.LONG_TEXT_MAX)
    )
    keyed = idempotency.keyed(caller.user_id, idempotency_key, requested.value, cleaned_reason)
    appointment = await get_appointment(caller, appointment_id)
    if idempotency.is_replay(keyed, appointment.change_key, appointment.change_request):
        return appointment
    if not may_set(caller.role, requested):
        raise Forbidden(f"Only the doctor or an admin may set {requested.value}")
    if not can_transition(appointment.status, requested):
        raise InvalidTransition(appointment.status.value, requested.value)
    now = utcnow()
    rule = rule_for(appointment.status, requested)
    changes: dict[str, Any] = {"status": requested.value, "updated_at": now}
    changes |= rule(Move(caller, appointment, requested, now))
    changes |= clinical_field_changes(caller.role, notes, virtual_meeting_link)
    if reason is not None:
        changes["cancellation_reason"] = cleaned_reason
    if keyed is not None:
        changes |= {"change_key": keyed.key, "change_request": keyed.request}
    owing = None
    if (notifying := _NOTIFYING.get(requested)) is not None:
        owing = owed.push(owed.mark(notifying, appointment.sequence + 1, now))
    try:
        changed, freed = await _apply(caller, appointment, changes, now, owing)
    except _StatusMoved:
        current = await Appointment.get(appointment.id)
        if current is not None and idempotency.is_replay(
            keyed, current.change_key, current.change_request
        ):
            return current  # a duplicate of this request got there first
        raise InvalidTransition(
            current.status.value if current else appointment.status.value, requested.value
        ) from None
    kind = _EVENTS.get(requested, AppointmentEventKind.STATUS_CHANGED)
    events: list[Event] = [AppointmentChanged(kind=kind, appointment=changed, at=now)]
    if freed is not None:
        events.append(SlotChanged(kind=SlotEventKind.RELEASED, slot=freed, at=now))
    await publish(*events)
    return changed


async def cancel_appointment(
    actor: Actor | None,
    appointment_id: str,
    reason: str | None,
    idempotency_key: str | None = None,
) -> Appointment:
    return await change_status(
        actor,
        appointment_id,
        AppointmentStatus.CANCELLED,
        reason=reason,
        idempotency_key=idempotency_key,
    )


async def _apply(
    caller: Actor,
    appointment: Appointment,
    changes: dict[str, Any],
    now: datetime,
    owing: dict[str, Any] | None,
) -> tuple[Appointment, Slot | None]:
    """Save the change, conditional on the status read (a concurrent change loses cleanly),
    with the notifications it owes; a cancel frees the slot after it and records both."""
    cancelling = changes["status"] == AppointmentStatus.CANCELLED.value
    if cancelling:
        await _mark_for_check(appointment, now)
    try:
        updated = await appointments.set_status(appointment, changes, owing)
    except DuplicateKeyError as exc:
        if idempotency.is_key_clash(exc, "change_key"):
            raise idempotency.key_reused() from exc
        raise
    if updated is None:
        raise _StatusMoved()
    freed = None
    if cancelling:
        freed = await free_slot(appointment.slot_id, now, "cancelled")
    audit = [_status_change(appointment, changes, cancelling)]
    if freed is not None:
        audit.append(released_slot(appointment.slot_id))
    await record(caller, now, *audit)
    return Appointment.model_validate(updated), freed


async def _mark_for_check(appointment: Appointment, now: datetime) -> None:
    """Before the cancel is saved: its future slot (the only kind a cancel frees) awaits the
    reconciler's check, so a free that then fails, or never runs, is repaired by its next
    pass. A cancel refused after this leaves the slot held by an active appointment, which
    the reconciler then merely unmarks."""
    await slots.mark_future_for_check(appointment.slot_id, now)


def _status_change(appointment: Appointment, changes: dict[str, Any], cancelling: bool) -> Change:
    assert appointment.id is not None
    stored = appointment.model_dump(mode="python")
    shown = {k: v for k, v in changes.items() if k not in _NOT_AUDITED}
    before, after = changed_fields(stored, shown)
    action = "appointment.cancelled" if cancelling else "appointment.status_changed"
    return Change(action, "appointment", appointment.id, before=before, after=after)


class _StatusMoved(Exception):
    """Someone changed the status between our read and our update."""

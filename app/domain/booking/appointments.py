"""Appointments after booking: who may see them, cancel them and move their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import Forbidden, InvalidTransition, NotFound
from app.domain import validation
from app.domain.audit.recorder import Change, changed_fields, record
from app.domain.auth.actor import Actor, require_actor, require_role
from app.domain.booking import idempotency
from app.domain.booking.clinical_fields import clinical_field_changes
from app.domain.booking.policy import require_before_cutoff
from app.domain.booking.slot_changes import free_slot, released_slot
from app.domain.booking.status_rules import can_transition, may_set
from app.domain.booking.visit_times import require_in_time, visit_changes
from app.domain.notifications import outbox
from app.domain.paging import Page, PageRequest, read_page
from app.domain.slots.state import check_stamp
from app.events.messages import (
    AppointmentChanged,
    AppointmentEventKind,
    Event,
    SlotChanged,
    SlotEventKind,
)
from app.events.publisher import publish
from app.models import Appointment, AppointmentStatus, Role, Slot


def can_see(
    actor: Actor, appointment: Appointment, previous_doctor_id: PydanticObjectId | None = None
) -> bool:
    """Its patient, its doctor or an admin; a doctor it was just moved away from sees the move."""
    return (
        actor.is_admin
        or appointment.patient_id == actor.user_id
        or (
            actor.role is Role.DOCTOR
            and actor.doctor_id is not None
            and actor.doctor_id in (appointment.doctor_id, previous_doctor_id)
        )
    )


async def get_appointment(actor: Actor | None, appointment_id: str) -> Appointment:
    """Its patient, its doctor or an admin; to anyone else it does not exist."""
    caller = require_actor(actor)
    found = await Appointment.get(validation.object_id(appointment_id, "id"))
    if found is None or not can_see(caller, found):
        raise NotFound("Appointment", field="id")
    return found


async def my_appointments(
    actor: Actor | None, statuses: list[AppointmentStatus] | None
) -> list[Appointment]:
    caller = require_actor(actor)
    query: dict[str, Any] = (
        {"doctor_id": caller.doctor_id}
        if caller.role is Role.DOCTOR
        else {"patient_id": caller.user_id}
    )
    if statuses:
        query["status"] = {"$in": [s.value for s in statuses]}
    found = await Appointment.find(query).to_list()
    return sorted(found, key=lambda a: (a.starts_at, str(a.id)))


@dataclass(frozen=True)
class AppointmentFilter:
    """Which appointments a listing asks for; every field optional."""

    doctor_id: str | None = None
    patient_id: str | None = None
    statuses: list[AppointmentStatus] | None = None
    start: date | None = None
    end: date | None = None


async def list_appointments(
    actor: Actor | None, wanted: AppointmentFilter, page: PageRequest
) -> Page[Appointment]:
    """ADMIN sees all, DOCTOR its own; ordered by start time, cursor-paginated."""
    caller = require_role(actor, Role.ADMIN, Role.DOCTOR)
    page.check()
    query: dict[str, Any] = {}
    doctor_oid = validation.optional_object_id(wanted.doctor_id, "doctorId")
    if caller.role is Role.DOCTOR:
        if doctor_oid is not None and doctor_oid != caller.doctor_id:
            raise Forbidden("Doctors see only their own appointments")
        doctor_oid = caller.doctor_id
    if doctor_oid is not None:
        query["doctor_id"] = doctor_oid
    patient_oid = validation.optional_object_id(wanted.patient_id, "patientId")
    if patient_oid is not None:
        query["patient_id"] = patient_oid
    if wanted.statuses:
        query["status"] = {"$in": [s.value for s in wanted.statuses]}
    start, end = wanted.start, wanted.end
    if start is not None and end is not None:
        validation.date_range(start, end, max_days=3660)
    day_filter: dict[str, str] = {}
    if start is not None:
        day_filter["$gte"] = start.isoformat()
    if end is not None:
        day_filter["$lte"] = end.isoformat()
    if day_filter:
        query["appointment_date"] = day_filter
    return await read_page(Appointment, query, "starts_at", page)


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
    cancelling = requested is AppointmentStatus.CANCELLED
    now = utcnow()
    if cancelling:
        require_before_cutoff(caller, appointment, now)
    require_in_time(appointment, requested, now)
    changes: dict[str, Any] = {"status": requested.value, "updated_at": now}
    changes |= visit_changes(appointment, requested, now)
    if cancelling:
        changes |= {"cancelled_at": now, "cancelled_by": caller.user_id}
    changes |= clinical_field_changes(caller.role, notes, virtual_meeting_link)
    if reason is not None:
        changes["cancellation_reason"] = cleaned_reason
    if keyed is not None:
        changes |= {"change_key": keyed.key, "change_request": keyed.request}

    async def apply() -> tuple[Appointment, Slot | None]:
        if cancelling:
            await _mark_for_check(appointment, now)
        # The current status in the filter makes a concurrent change lose cleanly.
        try:
            updated = await Appointment.get_pymongo_collection().find_one_and_update(
                {"_id": appointment.id, "status": appointment.status.value},
                {"$set": changes, "$inc": {"sequence": 1}},
                return_document=ReturnDocument.AFTER,
            )
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

    try:
        changed, freed = await apply()
    except _StatusMoved:
        current = await Appointment.get(appointment.id)
        if current is not None and idempotency.is_replay(
            keyed, current.change_key, current.change_request
        ):
            return current  # a duplicate of this request got there first
        raise InvalidTransition(
            current.status.value if current else appointment.status.value, requested.value
        ) from None
    kind = {
        AppointmentStatus.CANCELLED: AppointmentEventKind.CANCELLED,
        AppointmentStatus.CONFIRMED: AppointmentEventKind.CONFIRMED,
    }.get(requested, AppointmentEventKind.STATUS_CHANGED)
    events: list[Event] = [AppointmentChanged(kind=kind, appointment=changed, at=now)]
    if freed is not None:
        events.append(SlotChanged(kind=SlotEventKind.RELEASED, slot=freed, at=now))
    await outbox.announce(*events)
    await publish(*events)
    return changed


async def _mark_for_check(appointment: Appointment, now: datetime) -> None:
    """Before the cancel is saved: its future slot (the only kind a cancel frees) awaits the
    reconciler's check, so a free that then fails, or never runs, is repaired by its next
    pass. A cancel refused after this leaves the slot held by an active appointment, which
    the reconciler then merely unmarks."""
    await Slot.get_pymongo_collection().update_one(
        {"_id": appointment.slot_id, "is_booked": True, "starts_at": {"$gt": now}},
        {"$set": check_stamp(now)},
    )


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


# Bookkeeping, not a change anyone made: the audit shows what the appointment became.
_NOT_AUDITED = frozenset({"updated_at", "change_key", "change_request"})


def _status_change(appointment: Appointment, changes: dict[str, Any], cancelling: bool) -> Change:
    assert appointment.id is not None
    stored = appointment.model_dump(mode="python")
    shown = {k: v for k, v in changes.items() if k not in _NOT_AUDITED}
    before, after = changed_fields(stored, shown)
    action = "appointment.cancelled" if cancelling else "appointment.status_changed"
    return Change(action, "appointment", appointment.id, before=before, after=after)


class _StatusMoved(Exception):
    """Someone changed the status between our read and our update."""

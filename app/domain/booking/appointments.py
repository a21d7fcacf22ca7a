"""Appointments after booking: who may see them, cancel them and move their status."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument

from app.domain import validation
from app.domain.audit.recorder import Change, changed_fields, record
from app.domain.auth.actor import Actor, require_actor, require_role
from app.domain.booking.clinical_fields import clinical_field_changes
from app.domain.booking.policy import require_before_cutoff
from app.domain.booking.status_rules import can_transition, may_set
from app.domain.clock import utcnow
from app.domain.errors import BadUserInput, Forbidden, InvalidTransition, NotFound
from app.domain.slots.writes import update_slot
from app.events.messages import (
    AppointmentChanged,
    AppointmentEventKind,
    Event,
    SlotChanged,
    SlotEventKind,
)
from app.events.publisher import publish
from app.models import Appointment, AppointmentStatus, Role, Slot

PAGE_MAX = 100


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


@dataclass
class AppointmentPage:
    items: list[Appointment]
    cursors: list[str]
    has_next_page: bool


def _cursor(appointment: Appointment) -> str:
    raw = f"{appointment.starts_at.isoformat()}|{appointment.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, PydanticObjectId]:
    try:
        starts, _, oid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        if not ObjectId.is_valid(oid):
            raise ValueError(oid)
        at = datetime.fromisoformat(starts)
        # Only a cursor this service made: zoned, and on a date no conversion can overflow.
        if at.tzinfo is None:
            raise ValueError(starts)
        validation.calendar_date(at.date(), "after")
        return at.astimezone(UTC), PydanticObjectId(oid)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError, BadUserInput) as exc:
        raise BadUserInput("after is not a valid cursor", field="after") from exc


async def list_appointments(
    actor: Actor | None,
    doctor_id: str | None,
    patient_id: str | None,
    statuses: list[AppointmentStatus] | None,
    start: date | None,
    end: date | None,
    first: int,
    after: str | None,
) -> AppointmentPage:
    """ADMIN sees all, DOCTOR its own; ordered by start time, cursor-paginated."""
    caller = require_role(actor, Role.ADMIN, Role.DOCTOR)
    if not 1 <= first <= PAGE_MAX:
        raise BadUserInput(f"first must be between 1 and {PAGE_MAX}", field="first")
    query: dict[str, Any] = {}
    doctor_oid = validation.optional_object_id(doctor_id, "doctorId")
    if caller.role is Role.DOCTOR:
        if doctor_oid is not None and doctor_oid != caller.doctor_id:
            raise Forbidden("Doctors see only their own appointments")
        doctor_oid = caller.doctor_id
    if doctor_oid is not None:
        query["doctor_id"] = doctor_oid
    patient_oid = validation.optional_object_id(patient_id, "patientId")
    if patient_oid is not None:
        query["patient_id"] = patient_oid
    if statuses:
        query["status"] = {"$in": [s.value for s in statuses]}
    if start is not None and end is not None:
        validation.date_range(start, end, max_days=3660)
    day_filter: dict[str, str] = {}
    if start is not None:
        day_filter["$gte"] = start.isoformat()
    if end is not None:
        day_filter["$lte"] = end.isoformat()
    if day_filter:
        query["appointment_date"] = day_filter
    if after is not None:
        starts, oid = _decode_cursor(after)
        query["$or"] = [
            {"starts_at": {"$gt": starts}},
            {"starts_at": starts, "_id": {"$gt": oid}},
        ]
    # Sorted in the store: a page is the first `first` after the cursor, so ordering in
    # Python would read every match; the (starts_at, _id) index serves it on MongoDB.
    found = await Appointment.find(query).sort("+starts_at", "+_id").limit(first + 1).to_list()
    items = found[:first]
    return AppointmentPage(
        items=items, cursors=[_cursor(a) for a in items], has_next_page=len(found) > first
    )


async def change_status(
    actor: Actor | None,
    appointment_id: str,
    requested: AppointmentStatus,
    notes: str | None = None,
    virtual_meeting_link: str | None = None,
    reason: str | None = None,
) -> Appointment:
    """Move along the state machine; cancelling frees a future slot in the same step."""
    caller = require_actor(actor)
    appointment = await get_appointment(caller, appointment_id)
    if not may_set(caller.role, requested):
        raise Forbidden(f"Only the doctor or an admin may set {requested.value}")
    if not can_transition(appointment.status, requested):
        raise InvalidTransition(appointment.status.value, requested.value)
    cancelling = requested is AppointmentStatus.CANCELLED
    now = utcnow()
    if cancelling:
        require_before_cutoff(caller, appointment, now)
    changes: dict[str, Any] = {"status": requested.value, "updated_at": now}
    if cancelling:
        changes |= {"cancelled_at": now, "cancelled_by": caller.user_id}
    changes |= clinical_field_changes(caller.role, notes, virtual_meeting_link)
    if reason is not None:
        changes["cancellation_reason"] = validation.optional_text(
            reason, "reason", validation.LONG_TEXT_MAX
        )

    async def apply() -> tuple[Appointment, Slot | None]:
        # The current status in the filter makes a concurrent change lose cleanly.
        updated = await Appointment.get_pymongo_collection().find_one_and_update(
            {"_id": appointment.id, "status": appointment.status.value},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise _StatusMoved()
        freed = None
        if cancelling:
            freed = await update_slot(
                {"_id": appointment.slot_id, "is_booked": True, "starts_at": {"$gt": now}},
                {"is_booked": False, "updated_at": now},
            )
        audit = [_status_change(appointment, changes, cancelling)]
        if freed is not None:
            audit.append(released_slot(appointment.slot_id))
        await record(caller, now, *audit)
        return Appointment.model_validate(updated), freed

    try:
        changed, freed = await apply()
    except _StatusMoved:
        current = await Appointment.get(appointment.id)
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
    await publish(*events)
    return changed


async def cancel_appointment(
    actor: Actor | None, appointment_id: str, reason: str | None
) -> Appointment:
    return await change_status(actor, appointment_id, AppointmentStatus.CANCELLED, reason=reason)


def _status_change(appointment: Appointment, changes: dict[str, Any], cancelling: bool) -> Change:
    assert appointment.id is not None
    stored = appointment.model_dump(mode="python")
    before, after = changed_fields(stored, {k: v for k, v in changes.items() if k != "updated_at"})
    action = "appointment.cancelled" if cancelling else "appointment.status_changed"
    return Change(action, "appointment", appointment.id, before=before, after=after)


def released_slot(slot_id: PydanticObjectId) -> Change:
    """A booked slot made AVAILABLE again by its appointment leaving it."""
    return Change(
        "slot.released", "slot", slot_id, before={"is_booked": True}, after={"is_booked": False}
    )


class _StatusMoved(Exception):
    """Someone changed the status between our read and our update."""

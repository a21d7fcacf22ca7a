"""Rescheduling: move a SCHEDULED or CONFIRMED future appointment to another slot of its
specialty (another doctor's allowed), keeping its id.

The new slot is claimed by the same atomic conditional update as a booking, under the same
patient lease and behind the same unique index; any refusal leaves everything as it was.
Without transactions the writes go in an order a crash cannot spoil for good:

1. claim the new slot (BOOKED): a crash now leaves it booked with no appointment;
2. touch the old slot's `updated_at`, so the reconciler's walk looks at it again;
3. move the appointment, conditionally on its slot and status (undoing 1 if that fails);
4. free the old slot: a crash before this leaves the old slot booked with no appointment.

Both leftovers are what the reconciler repairs: a BOOKED slot, recently changed, that no
active appointment holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from app.core.clock import utcnow
from app.core.errors import (
    BadUserInput,
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    SlotAlreadyBooked,
    SlotUnavailable,
)
from app.domain import validation
from app.domain.audit.recorder import Change, changed_fields, record
from app.domain.auth.actor import Actor, require_role
from app.domain.booking import idempotency
from app.domain.booking.appointments import can_see
from app.domain.booking.bookings import Placed
from app.domain.booking.claims import ClaimRefused, booked_slot, claim_for, free_slot, released_slot
from app.domain.booking.policy import require_before_cutoff, require_bookable, require_no_overlap
from app.domain.notifications import owed
from app.domain.read_model import announce_stale
from app.domain.read_model.doctors import doctor_now
from app.domain.slots.specialty import specialty_of
from app.events.messages import (
    AppointmentChanged,
    AppointmentEventKind,
    Event,
    SlotChanged,
    SlotEventKind,
)
from app.events.publisher import publish
from app.models import Appointment, AppointmentStatus, NotificationKind, Role, Slot
from app.store.queries import appointments, slots
from app.store.queries.slots import NO_LOCK, claim_stamp

MOVABLE = frozenset({AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED})


@dataclass
class _Moved:
    appointment: Appointment
    claimed: Slot
    freed: Slot | None


async def reschedule_appointment(
    actor: Actor | None,
    appointment_id: str,
    slot_id: str,
    idempotency_key: str | None = None,
) -> Placed:
    """Its patient or an admin moves it; the patient within the booking policy. With a key,
    a retry finds it on the appointment it reads anyway and gets the moved appointment."""
    caller = require_role(actor, Role.PATIENT, Role.ADMIN)
    appointment_oid = validation.object_id(appointment_id, "id")
    slot_oid = validation.object_id(slot_id, "slotId")
    keyed = idempotency.keyed(caller.user_id, idempotency_key, "reschedule", slot_oid)
    appointment = await Appointment.get(appointment_oid)
    if appointment is None or not can_see(caller, appointment):
        raise NotFound("Appointment", field="id")
    if idempotency.is_replay(keyed, appointment.change_key, appointment.change_request):
        return Placed(appointment)
    if appointment.status not in MOVABLE:
        raise InvalidTransition(appointment.status.value, AppointmentStatus.SCHEDULED.value)
    now = utcnow()
    require_before_cutoff(caller, appointment, now)
    if appointment.starts_at <= now:
        raise InvalidTransition(appointment.status.value, AppointmentStatus.SCHEDULED.value)
    if slot_oid == appointment.slot_id:
        raise BadUserInput("The appointment is already in this slot", field="slotId")
    slot = await Slot.get(slot_oid)
    if slot is None:
        raise NotFound("Slot", field="slotId")
    doctor = await doctor_now(slot.doctor_id)
    if doctor is not None and specialty_of(slot, doctor) != appointment.specialty_id:
        raise BadUserInput("The slot is of another specialty", field="slotId")
    if slot.is_removed:
        raise SlotUnavailable("The slot was removed")
    require_bookable(caller, doctor, slot, now)

    try:
        moved = await _move(caller, appointment, slot, keyed)
    except DomainError:
        # A duplicate of this request that got there first makes this one lose: return its move.
        if keyed is not None and (first := await _moved_with(appointment, keyed)) is not None:
            return Placed(first)
        raise
    at = moved.appointment.updated_at
    events: list[Event] = []
    if moved.freed is not None:
        events.append(SlotChanged(kind=SlotEventKind.RELEASED, slot=moved.freed, at=at))
    events += [
        SlotChanged(kind=SlotEventKind.BOOKED, slot=moved.claimed, at=at),
        AppointmentChanged(
            kind=AppointmentEventKind.RESCHEDULED,
            appointment=moved.appointment,
            at=at,
            previous_doctor_id=appointment.doctor_id,
        ),
    ]
    await publish(*events)
    return Placed(moved.appointment, moved.claimed)


async def _moved_with(appointment: Appointment, keyed: idempotency.Keyed) -> Appointment | None:
    """After a refusal: the appointment, when a duplicate of this request moved it first."""
    current = await Appointment.get(appointment.id)
    if current is not None and idempotency.is_replay(
        keyed, current.change_key, current.change_request
    ):
        return current
    return None


async def _move(
    caller: Actor, appointment: Appointment, slot: Slot, keyed: idempotency.Keyed | None
) -> _Moved:
    patient = appointment.patient_id

    async def move() -> _Moved:
        now = utcnow()
        await require_no_overlap(patient, slot, moving=appointment.id)
        claim: dict[str, Any] = {
            "is_booked": True,
            "booking_lock": NO_LOCK,
            **claim_stamp(now),
        }
        before = await slots.claim_open(slot.id, patient, now, claim)
        if before is None:
            raise ClaimRefused(now)
        claimed = Slot.model_validate({**before, **claim})
        # Marked for the reconciler: a crash before it is freed leaves it booked for nobody.
        old = await slots.stamp_for_check(appointment.slot_id, now)
        placed = _placed_in(claimed, now)
        owing = owed.push(
            owed.mark(
                NotificationKind.RESCHEDULED,
                appointment.sequence + 1,
                now,
                appointment.doctor_id,
                appointment.starts_at,
            )
        )
        if keyed is not None:
            placed |= {"change_key": keyed.key, "change_request": keyed.request}
        try:
            moved = await appointments.move(appointment, placed, owing)
        except DuplicateKeyError as exc:
            await _unclaim(before, old, now)
            if idempotency.is_key_clash(exc, "change_key"):
                raise idempotency.key_reused() from exc
            raise SlotAlreadyBooked() from exc
        except ConnectionFailure:
            raise  # the move may have been saved: the reconciler frees whichever slot is left
        except PyMongoError:
            await _unclaim(before, old, now)  # the store refused the move: nothing holds it
            raise
        if moved is None:
            await _unclaim(before, old, now)
            raise _AppointmentChanged()
        # Saved: a failure to free is logged; the reconciler frees the slot (stamped above).
        freed = await free_slot(appointment.slot_id, now, "moved")
        await record(caller, now, *_move_changes(appointment, claimed, freed))
        return _Moved(Appointment.model_validate(moved), claimed, freed)

    assert slot.id is not None
    try:
        return await claim_for(patient, slot.id, lambda _: move())
    except _AppointmentChanged:
        current = await Appointment.get(appointment.id)
        if current is None or current.status not in MOVABLE:
            status = current.status.value if current else AppointmentStatus.CANCELLED.value
            raise InvalidTransition(status, AppointmentStatus.SCHEDULED.value) from None
        raise Conflict("The appointment changed meanwhile; try again", field="id") from None


def _move_changes(appointment: Appointment, claimed: Slot, freed: Slot | None) -> list[Change]:
    """The appointment's moved fields, the new slot BOOKED, the old one freed (when future)."""
    assert appointment.id is not None and claimed.id is not None
    placed = {k: v for k, v in _placed_in(claimed, claimed.updated_at).items() if k != "updated_at"}
    before, after = changed_fields(appointment.model_dump(), placed)
    changes = [
        Change("appointment.rescheduled", "appointment", appointment.id, before, after),
        booked_slot(claimed.id, appointment.id),
    ]
    if freed is not None:
        changes.append(released_slot(appointment.slot_id))
    return changes


def _placed_in(slot: Slot, now: datetime) -> dict[str, Any]:
    """The appointment's fields that follow its slot; it starts over as SCHEDULED. Its
    specialty stays: a move is to a slot of the same one."""
    return {
        "slot_id": slot.id,
        "doctor_id": slot.doctor_id,
        "appointment_date": slot.date,
        "appointment_time": slot.start_time,
        "end_time": slot.end_time,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "status": AppointmentStatus.SCHEDULED.value,
        "updated_at": now,
        "placed_at": now,
    }


async def _unclaim(
    new: dict[str, Any],
    old: dict[str, Any] | None,
    at: datetime,
) -> None:
    """Put both slots back exactly as they were (a lock on the new one too); should this
    process die first, the reconciler frees the new one."""
    await slots.unclaim_move(new, old, at)
    # No event told of the claim or tells of its undoing: read models drop that day. The old
    # slot stayed booked throughout (only its reconciler stamp came and went), so no reader
    # could have seen it change; `old` holds just its id and updated_at.
    await announce_stale(doctor_id=new["doctor_id"], dates=[new["date"]])


class _AppointmentChanged(Exception):
    """Its slot or status changed between our read and our move."""

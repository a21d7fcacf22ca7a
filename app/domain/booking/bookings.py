"""Booking: turn an AVAILABLE slot, or the patient's own lock on it, into an appointment.

Correctness rests on the store, not on this process: the slot is claimed by one atomic
conditional update whose filter states every condition, and a partial unique index on
appointments refuses a second active appointment for a slot. Every store runs this one
path, with no transactions: the reconciler frees a slot a crash left booked without an
appointment. A booking with an idempotency key that its patient already used returns that
first appointment instead of an error.

A failure after the claim gives the slot back (the patient's lock on it included) when the
store refused the appointment; when it cannot (the store refuses that write too, or the
outcome is unknown), the claim keeps the booking's key, and a retry with that key finishes
the booking on it: the patient gets the booking or SERVICE_UNAVAILABLE, never the refusal
of a slot that their own attempt holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from app.core.clock import utcnow
from app.core.errors import (
    BadUserInput,
    DomainError,
    SlotAlreadyBooked,
)
from app.domain import validation
from app.domain.audit import owed as owed_audit
from app.domain.audit.recorder import Change
from app.domain.auth.actor import Actor, require_actor
from app.domain.booking import idempotency
from app.domain.booking.claims import ClaimRefused, booked_slot, claim_for
from app.domain.booking.policy import acting_patient, require_bookable, require_no_overlap
from app.domain.notifications import owed
from app.domain.read_model import announce_stale
from app.domain.read_model.doctors import doctor_now
from app.domain.slots.specialty import specialty_of
from app.domain.slots.state import lock_is_live
from app.events.messages import (
    AppointmentChanged,
    AppointmentEventKind,
    SlotChanged,
    SlotEventKind,
)
from app.events.publisher import publish
from app.models import Appointment, Doctor, NotificationKind, Slot
from app.store import command_order, outage
from app.store.queries import appointments, slots
from app.store.queries.slots import NO_LOCK

log = logging.getLogger(__name__)
# A booking's store commands go before those of requests that arrived up to this long before
# it: the patient's hold is running out, and in a rush each patient then finishes in turn
# rather than all of them near the end (app/store/command_order.py; B12).
BOOKING_HEAD_START_SECONDS = 5.0


@dataclass
class Placed:
    """An appointment as a booking or a move left it, with the slot it holds when this
    request wrote that slot: the answer then needs no read that could fail after the save."""

    appointment: Appointment
    slot: Slot | None = None


@dataclass(frozen=True)
class BookingRequest:
    """A booking as the caller asked for it; book_appointment checks every field."""

    slot_id: str
    doctor_id: str | None = None
    reason_for_visit: str | None = None
    patient_id: str | None = None  # an ADMIN booking on a patient's behalf
    idempotency_key: str | None = None


async def book_appointment(actor: Actor | None, request: BookingRequest) -> Placed:
    command_order.ahead(BOOKING_HEAD_START_SECONDS)
    patient = await acting_patient(actor, request.patient_id)
    caller = require_actor(actor)
    slot_oid = validation.object_id(request.slot_id, "slotId")
    doctor_oid = validation.optional_object_id(request.doctor_id, "doctorId")
    reason = validation.optional_text(
        request.reason_for_visit, "reasonForVisit", validation.LONG_TEXT_MAX
    )
    key = idempotency.checked_key(request.idempotency_key)
    stored_key = None if key is None else idempotency.stored_key(patient, key)
    if (first := await idempotency.first_booking(stored_key)) is not None:
        return Placed(first)
    try:
        booked, appointment = await _claim_and_book(
            caller, slot_oid, doctor_oid, patient, reason, stored_key
        )
    except DomainError:
        # A retry that raced its first attempt loses to it somewhere: return the first.
        if (first := await idempotency.first_booking(stored_key)) is not None:
            return Placed(first)
        raise
    events = (
        SlotChanged(kind=SlotEventKind.BOOKED, slot=booked, at=appointment.created_at),
        AppointmentChanged(
            kind=AppointmentEventKind.CREATED, appointment=appointment, at=appointment.created_at
        ),
    )
    await publish(*events)
    return Placed(appointment, booked)


async def _claim_and_book(
    caller: Actor,
    slot_id: PydanticObjectId,
    doctor_id: PydanticObjectId | None,
    patient: PydanticObjectId,
    reason: str | None,
    stored_key: str | None,
) -> tuple[Slot, Appointment]:
    """Claim first, then check, as a lock does: the claim returns the slot as it was, which
    names its doctor (active, its booking window, the `doctorId` asked for) and its times
    (the patient's overlap check), so the booking reads no slot of its own. A claim those
    checks refuse is given back before anyone is told of it."""

    async def claim_and_book(resumed: Slot | None) -> tuple[Slot, Appointment]:
        now = utcnow()
        claim = await _claim(slot_id, patient, stored_key, now, resumed)
        if claim is None:
            raise ClaimRefused(now)
        before, booked = claim
        try:
            doctor = await _bookable(caller, doctor_id, booked, now)
            await require_no_overlap(patient, booked)
        except DomainError:
            if resumed is None:
                await _undo_claim(before, patient, now)
            raise
        appointment = Appointment(
            patient_id=patient,
            doctor_id=booked.doctor_id,
            slot_id=booked.id,
            specialty_id=specialty_of(booked, doctor),
            appointment_date=booked.date,
            appointment_time=booked.start_time,
            end_time=booked.end_time,
            starts_at=booked.starts_at,
            ends_at=booked.ends_at,
            reason_for_visit=reason,
            idempotency_key=stored_key,
            created_at=now,
            updated_at=now,
            notifications_owed=owed.first(owed.mark(NotificationKind.BOOKED, 0, now)),
        )
        appointment.id = PydanticObjectId()
        # The entries ride on the insert: they stand exactly when the appointment does.
        audit = owed_audit.owed(caller, now, *booking_changes(appointment))
        try:
            await appointments.insert_with(appointment, owed_audit.stored(audit))
        except DuplicateKeyError as exc:
            # A resumed claim loses only to its first attempt's appointment, which holds the slot.
            if resumed is None:
                await _undo_claim(before, patient, now)
            if idempotency.is_key_clash(exc):
                raise SlotAlreadyBooked("You have already booked with this key") from exc
            raise
        except ConnectionFailure:
            # The insert may have been saved: the claim stays, for a retry with the same key
            # to find its appointment or finish the booking, and for the reconciler otherwise.
            raise
        except PyMongoError:
            # The store refused the insert (a full disk): nothing holds the slot, give it back.
            await _undo_claim(before, patient, now)
            raise
        owed_audit.remember(Appointment, appointment.id, audit)
        return booked, appointment

    return await claim_for(patient, slot_id, claim_and_book, claim_key=stored_key)


async def _bookable(
    caller: Actor, doctor_id: PydanticObjectId | None, slot: Slot, now: datetime
) -> Doctor:
    if doctor_id is not None and doctor_id != slot.doctor_id:
        raise BadUserInput("doctorId is not the doctor of this slot", field="doctorId")
    return require_bookable(caller, await doctor_now(slot.doctor_id), slot, now)


async def _claim(
    slot_id: PydanticObjectId,
    patient: PydanticObjectId,
    stored_key: str | None,
    now: datetime,
    resumed: Slot | None,
) -> tuple[Slot, Slot] | None:
    """(the slot before, after) claiming the open slot, or taking over this booking's own
    unfinished claim (`resumed`, as read): conditional on the claim being unchanged, so of
    racing retries one goes on."""
    if resumed is None:
        return await slots.book_open(slot_id, patient, now, stored_key)
    taken = await slots.take_over_claim(slot_id, stored_key, resumed.updated_at, now)
    return None if taken is None else (resumed, taken)


async def _undo_claim(before: Slot, patient: PydanticObjectId, claimed_at: datetime) -> None:
    """Give the slot back as it was before the claim, the patient's lock on it included.

    Never raises: the failure that cut the booking short is the answer. Should the store
    refuse this write too (a full disk), the claim stays: a retry with the same idempotency
    key resumes it, and the reconciler frees it after its grace period otherwise."""
    held = before.booking_lock.patient_id == patient and lock_is_live(before, claimed_at)
    try:
        lock = before.booking_lock.model_dump(exclude_none=True) if held else NO_LOCK
        await slots.give_back_claim(before, claimed_at, lock)
        await announce_stale(doctor_id=before.doctor_id, dates=[before.date])
    except Exception as exc:
        if not outage.noticed(exc):
            log.exception("could not undo the claim on slot %s; the reconciler will", before.id)


def booking_changes(appointment: Appointment) -> list[Change]:
    """The new appointment, and its slot turned BOOKED."""
    assert appointment.id is not None
    return [
        Change(
            "appointment.booked",
            "appointment",
            appointment.id,
            after=appointment.model_dump(
                include={
                    "patient_id",
                    "doctor_id",
                    "slot_id",
                    "status",
                    "starts_at",
                    "reason_for_visit",
                }
            ),
        ),
        booked_slot(appointment.slot_id, appointment.id),
    ]

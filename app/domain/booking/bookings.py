"""Booking: turn an AVAILABLE slot, or the patient's own lock on it, into an appointment.

Correctness rests on the store, not on this process: the slot is claimed by one atomic
conditional update whose filter states every condition, and a partial unique index on
appointments refuses a second active appointment for a slot. Where the store has
transactions the claim and the appointment commit together; where it has none, the
reconciler frees a slot left booked without an appointment.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.domain import validation
from app.domain.auth.actor import Actor
from app.domain.booking.claims import refusal, should_retry
from app.domain.booking.patients import acting_patient
from app.domain.clock import utcnow
from app.domain.errors import (
    BadUserInput,
    Conflict,
    NotFound,
    SlotAlreadyBooked,
    SlotLocked,
    SlotUnavailable,
)
from app.domain.slots.state import NO_LOCK, open_for
from app.domain.slots.writes import update_slot
from app.events.messages import (
    AppointmentChanged,
    AppointmentEventKind,
    SlotChanged,
    SlotEventKind,
)
from app.events.publisher import publish
from app.models import ACTIVE_STATUSES, Appointment, Slot, User
from app.store.connection import get_store
from app.store.guards import guarded

CLAIM_ATTEMPTS = 3


async def book_appointment(
    actor: Actor | None,
    slot_id: str,
    doctor_id: str | None,
    reason_for_visit: str | None,
    patient_id: str | None,
) -> Appointment:
    patient = await acting_patient(actor, patient_id)
    reason = validation.optional_text(reason_for_visit, "reasonForVisit", validation.LONG_TEXT_MAX)
    slot = await Slot.get(validation.object_id(slot_id, "slotId"))
    if slot is None:
        raise NotFound("Slot", field="slotId")
    if slot.is_removed:
        raise SlotUnavailable("The slot was removed")
    if doctor_id is not None and validation.object_id(doctor_id, "doctorId") != slot.doctor_id:
        raise BadUserInput("doctorId is not the doctor of this slot", field="doctorId")
    slots = Slot.get_pymongo_collection()
    appointments = Appointment.get_pymongo_collection()

    async def claim_and_book(session: AsyncClientSession | None) -> tuple[Slot, Appointment]:
        now = utcnow()
        overlapping = await appointments.find_one(
            {
                "patient_id": patient,
                "status": {"$in": ACTIVE_STATUSES},
                "starts_at": {"$lt": slot.ends_at},
                "ends_at": {"$gt": slot.starts_at},
            },
            {"_id": 1, "slot_id": 1},
            session=session,
        )
        if overlapping is not None:
            if overlapping.get("slot_id") == slot.id:
                raise SlotAlreadyBooked("You have already booked this slot")
            raise Conflict("You already have an appointment at this time", field="slotId")
        booked = await update_slot(
            {"_id": slot.id, **open_for(patient, now)},
            {"is_booked": True, "booking_lock": NO_LOCK, "updated_at": now},
            session,
        )
        if booked is None:
            raise _Refused(now)
        appointment = Appointment(
            patient_id=patient,
            doctor_id=booked.doctor_id,
            slot_id=booked.id,
            specialty_id=booked.specialty_id,
            appointment_date=booked.date,
            appointment_time=booked.start_time,
            starts_at=booked.starts_at,
            ends_at=booked.ends_at,
            reason_for_visit=reason,
            created_at=now,
            updated_at=now,
        )
        try:
            await appointment.insert(session=session)
        except DuplicateKeyError:
            if session is None:  # no transaction to roll the claim back: undo it by hand
                await slots.update_one(
                    {"_id": slot.id, "updated_at": now}, {"$set": {"is_booked": False}}
                )
            raise
        return booked, appointment

    for _ in range(CLAIM_ATTEMPTS):
        try:
            # The patient's lease keeps its overlap check true until its appointment is written.
            async with guarded(User.get_pymongo_collection(), patient, "patient's bookings"):
                booked, appointment = await get_store().run_atomically(claim_and_book)
            break
        except _Refused as refused:
            error = await refusal(slot.id, patient, refused.at)  # type: ignore[arg-type]
            if not should_retry(error):
                raise error from None
        except DuplicateKeyError as exc:
            raise SlotAlreadyBooked() from exc
    else:
        raise SlotLocked(None)
    await publish(
        SlotChanged(kind=SlotEventKind.BOOKED, slot=booked, at=appointment.created_at),
        AppointmentChanged(
            kind=AppointmentEventKind.CREATED, appointment=appointment, at=appointment.created_at
        ),
    )
    return appointment


class _Refused(Exception):
    """The atomic claim matched nothing; the caller reads the slot to say why."""

    def __init__(self, at: datetime) -> None:
        super().__init__("slot claim refused")
        self.at = at

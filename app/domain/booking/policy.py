"""Booking policy: whose name a booking or lock is in, how soon and how far ahead a patient
may book, that a patient's appointments do not overlap, and how late it may cancel.

Admins are never bound by the window or the cutoff; a doctor cancelling its own appointment
is not bound either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from beanie import PydanticObjectId

from app.core.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    NotFound,
    OutsideBookingWindow,
    SlotAlreadyBooked,
    SlotUnavailable,
    TooLateToCancel,
)
from app.domain import validation
from app.domain.auth.actor import Actor, require_role
from app.domain.slots.pending_regeneration import slot_awaits_regeneration
from app.models import Appointment, Doctor, Role, Slot, User
from app.settings import get_settings
from app.store.queries import appointments


def min_notice_minutes(doctor: Doctor) -> int:
    if doctor.min_notice_minutes is not None:
        return doctor.min_notice_minutes
    return get_settings().booking_min_notice_minutes


def max_days_ahead(doctor: Doctor) -> int:
    if doctor.max_days_ahead is not None:
        return doctor.max_days_ahead
    return get_settings().booking_max_days_ahead


@dataclass(frozen=True)
class BookingWindow:
    earliest: datetime
    latest: datetime

    def contains(self, starts_at: datetime) -> bool:
        return self.earliest <= starts_at <= self.latest


def booking_window(doctor: Doctor, now: datetime) -> BookingWindow:
    """The starts a patient may book now with this doctor."""
    return BookingWindow(
        earliest=now + timedelta(minutes=min_notice_minutes(doctor)),
        latest=now + timedelta(days=max_days_ahead(doctor)),
    )


def require_within_window(actor: Actor, doctor: Doctor, starts_at: datetime, now: datetime) -> None:
    """Patients book inside the doctor's window; admins anywhere."""
    if actor.is_admin:
        return
    window = booking_window(doctor, now)
    if not window.contains(starts_at):
        raise OutsideBookingWindow(window.earliest, window.latest)


def require_bookable(actor: Actor, doctor: Doctor | None, slot: Slot, now: datetime) -> Doctor:
    """The slot's doctor (read with `doctor_now`, from the read model when it serves) takes
    bookings, the slot follows its current time zone, and a patient's future slot starts
    inside its window (no window for anyone else). Past slots are left to the claim, which
    calls them unavailable.

    Whether a doctor takes bookings is its own flag: switching it writes no slot, so a
    doctor with 17,000 future slots is (de)activated at once, and each lock, booking and
    move checks it here (a switch drops the doctor from every process's read model). The
    same holds for the slots a time zone move has not regenerated yet."""
    if doctor is None or not doctor.is_active:
        raise SlotUnavailable("The doctor is not taking bookings")
    if slot_awaits_regeneration(doctor, slot):
        raise SlotUnavailable(
            "The doctor's time zone changed and this slot is being regenerated; "
            "choose one of the doctor's current slots"
        )
    if actor.role is Role.PATIENT and slot.starts_at > now:
        require_within_window(actor, doctor, slot.starts_at, now)
    return doctor


def cancellation_cutoff(appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(minutes=get_settings().cancellation_cutoff_minutes)


def require_before_cutoff(actor: Actor, appointment: Appointment, now: datetime) -> None:
    """A patient cancels or reschedules only before the cutoff; its doctor and admins any time."""
    if actor.role is not Role.PATIENT:
        return
    cutoff = cancellation_cutoff(appointment)
    if now > cutoff:
        raise TooLateToCancel(cutoff)


async def require_no_overlap(
    patient: PydanticObjectId,
    slot: Slot,
    moving: PydanticObjectId | None = None,
) -> None:
    """Read under the patient's lease (app/store/guards.py), so it stays true until the write;
    `moving` is an appointment being rescheduled, which does not overlap itself."""
    overlapping = await appointments.overlapping(patient, slot.starts_at, slot.ends_at, moving)
    if overlapping is None:
        return
    if overlapping.get("slot_id") == slot.id:
        raise SlotAlreadyBooked("You have already booked this slot")
    raise Conflict("You already have an appointment at this time", field="slotId")


async def acting_patient(actor: Actor | None, patient_id: str | None) -> PydanticObjectId:
    found = require_role(actor, Role.PATIENT, Role.ADMIN)
    if found.role is Role.PATIENT:
        if (
            patient_id is not None
            and validation.object_id(patient_id, "patientId") != found.user_id
        ):
            raise Forbidden("Patients act only for themselves")
        return found.user_id
    if patient_id is None:
        raise BadUserInput("patientId is required when an admin acts for a patient", "patientId")
    patient = await User.get(validation.object_id(patient_id, "patientId"))
    if patient is None or patient.role is not Role.PATIENT:
        raise NotFound("Patient", field="patientId")
    return patient.id  # type: ignore[return-value]

"""Who may listen to what, and which events each listener may receive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from beanie import PydanticObjectId

from app.core.errors import Forbidden
from app.domain import validation
from app.domain.auth.actor import Actor, require_actor, require_role
from app.domain.booking.appointments import can_see
from app.domain.slots.specialty import slot_specialty
from app.events.messages import (
    AppointmentChanged,
    EmergencyRaised,
    Event,
    NotificationSent,
    Resync,
    SlotChanged,
)
from app.models import Appointment, Doctor, Role


@dataclass(frozen=True)
class SlotListener:
    """`wants` picks the events as they are fanned out; `confirms` then asks what only the
    store knows: the specialty of a slot that follows its doctor's (slots/specialty.py)."""

    wants: Callable[[Event], bool]
    specialty: PydanticObjectId | None

    async def confirms(self, event: SlotChanged) -> bool:
        if self.specialty is None or event.slot.specialty_id is not None:
            return True
        return await slot_specialty(event.slot) == self.specialty


def slot_listener(
    actor: Actor | None,
    doctor_id: str | None,
    specialty_id: str | None,
    day: str | None,
) -> SlotListener:
    """Anyone may follow slots (lock holders are hidden by the Slot type); a doctor, its own."""
    doctor = validation.optional_object_id(doctor_id, "doctorId")
    specialty = validation.optional_object_id(specialty_id, "specialtyId")
    own: PydanticObjectId | None = None
    if actor is not None and actor.role is Role.DOCTOR:
        if doctor is not None and doctor != actor.doctor_id:
            raise Forbidden("Doctors follow only their own slots")
        own = actor.doctor_id

    def wants(event: Event) -> bool:
        if not isinstance(event, SlotChanged):
            return False
        slot = event.slot
        return (
            (own is None or slot.doctor_id == own)
            and (doctor is None or slot.doctor_id == doctor)
            and (specialty is None or slot.specialty_id in (None, specialty))
            and (day is None or slot.date == day)
        )

    return SlotListener(wants, specialty)


def appointment_listener(actor: Actor | None, doctor_id: str | None) -> Callable[[Event], bool]:
    """PATIENT: its own; DOCTOR: its own; ADMIN: all (or one doctor's)."""
    caller = require_actor(actor)
    doctor = validation.optional_object_id(doctor_id, "doctorId")
    if caller.role is Role.DOCTOR and doctor is not None and doctor != caller.doctor_id:
        raise Forbidden("Doctors follow only their own appointments")

    def wants(event: Event) -> bool:
        if not isinstance(event, AppointmentChanged):
            return False
        appointment, previous = event.appointment, event.previous_doctor_id
        return can_see(caller, appointment, previous) and (
            doctor is None or doctor in (appointment.doctor_id, previous)
        )

    return wants


def notification_listener(actor: Actor | None) -> Callable[[Event], bool]:
    """Only the recipient hears its in-app notifications."""
    caller = require_actor(actor)

    def wants(event: Event) -> bool:
        return (
            isinstance(event, NotificationSent)
            and event.notification.recipient_id == caller.user_id
        )

    return wants


def missed_events_listener(actor: Actor | None) -> Callable[[Event], bool]:
    """Any signed-in user: a notice says only "re-query", whatever feeds one follows."""
    require_actor(actor)

    def wants(event: Event) -> bool:
        return isinstance(event, Resync)

    return wants


async def emergency_listener(actor: Actor | None) -> Callable[[Event], bool]:
    """ADMIN: all; DOCTOR: those sent to it, to its specialty, or to no one in particular."""
    caller = require_role(actor, Role.ADMIN, Role.DOCTOR)
    specialty = None
    if caller.role is Role.DOCTOR and caller.doctor_id is not None:
        doctor = await Doctor.get(caller.doctor_id)
        specialty = doctor.specialty_id if doctor else None

    def wants(event: Event) -> bool:
        if not isinstance(event, EmergencyRaised):
            return False
        if caller.is_admin:
            return True
        request = event.request
        if request.doctor_id is not None:
            return request.doctor_id == caller.doctor_id
        return request.specialty_id is None or request.specialty_id == specialty

    return wants


def may_see_history(
    actor: Actor | None,
    appointment: Appointment,
    previous_doctor_id: PydanticObjectId | None = None,
) -> bool:
    """An appointment's history goes wherever the appointment itself does: to its patient,
    its doctor and admins, and to the doctor it was moved away from in the RESCHEDULED
    event that tells them (afterwards the appointment, history and all, is not theirs)."""
    return actor is not None and can_see(actor, appointment, previous_doctor_id)


def may_see_account(
    reader: Actor | None, user_id: PydanticObjectId, appointment: Appointment
) -> bool:
    """Whether a reader shown `appointment` may see this user's account (id, email, phone)
    where it names one (its history's actors, `cancelledBy`): admins see every account,
    anyone else their own and the appointment's patient, whom `Appointment.patient` shows
    them anyway. Other accounts (an admin, another doctor) are shown by role only."""
    if reader is None:
        return False
    return reader.is_admin or user_id in (reader.user_id, appointment.patient_id)

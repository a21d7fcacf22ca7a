"""Appointments after booking: who may see them, the listings that show them, and
how their times read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId

from app.core.errors import Forbidden, NotFound
from app.domain import validation
from app.domain.auth.actor import Actor, require_actor, require_role
from app.domain.paging import Page, PageRequest, read_page
from app.domain.validation import END_OF_DAY
from app.models import Appointment, AppointmentStatus, Role
from app.store.queries import appointments


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
    whose: dict[str, Any] = (
        {"doctor_id": caller.doctor_id}
        if caller.role is Role.DOCTOR
        else {"patient_id": caller.user_id}
    )
    found = await appointments.find(appointments.with_statuses(whose, statuses))
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
    doctor_oid = validation.optional_object_id(wanted.doctor_id, "doctorId")
    if caller.role is Role.DOCTOR:
        if doctor_oid is not None and doctor_oid != caller.doctor_id:
            raise Forbidden("Doctors see only their own appointments")
        doctor_oid = caller.doctor_id
    patient_oid = validation.optional_object_id(wanted.patient_id, "patientId")
    start, end = wanted.start, wanted.end
    if start is not None and end is not None:
        validation.date_range(start, end, max_days=3660)
    query = appointments.listing(doctor_oid, patient_oid, wanted.statuses, start, end)
    return await read_page(Appointment, query, "starts_at", page)


def end_time_in_zone(appointment: Appointment, zone: str) -> str:
    """ "HH:MM" of `ends_at` in `zone`, for appointments stored before `end_time` was kept.

    An appointment that ends at the midnight after its day ends at "24:00", as a slot would.
    """
    local = appointment.ends_at.astimezone(ZoneInfo(zone))
    past_midnight = local.date().isoformat() > appointment.appointment_date
    if past_midnight and local.hour == 0 and local.minute == 0:
        return END_OF_DAY
    return local.strftime("%H:%M")

"""The patient has arrived: the front desk (ADMIN) or the appointment's doctor checks them in,
from CHECK_IN_OPENS_MINUTES before the start; after that a no-show can no longer be marked."""

from __future__ import annotations

from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.core.errors import Forbidden, InvalidTransition
from app.domain.audit.recorder import Change, record
from app.domain.auth.actor import Actor, require_role
from app.domain.booking.appointments import get_appointment
from app.domain.booking.visit_times import check_in_opens
from app.events.messages import AppointmentChanged, AppointmentEventKind
from app.events.publisher import publish
from app.models import Appointment, AppointmentStatus, Role

OPEN = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


async def check_in(actor: Actor | None, appointment_id: str) -> Appointment:
    """Checking in twice returns the first check-in unchanged (a double click at the desk)."""
    caller = require_role(actor, Role.ADMIN, Role.DOCTOR)
    appointment = await get_appointment(caller, appointment_id)
    if caller.role is Role.DOCTOR and appointment.doctor_id != caller.doctor_id:
        raise Forbidden("Only the appointment's doctor or an admin checks a patient in")
    if appointment.checked_in_at is not None and appointment.status in OPEN:
        return appointment
    status = appointment.status.value
    if appointment.status not in OPEN:
        raise InvalidTransition(
            status, "CHECKED_IN", reason=f"A {status} appointment cannot be checked in"
        )
    now = utcnow()
    opens = check_in_opens(appointment)
    if now < opens:
        raise InvalidTransition(
            status, "CHECKED_IN", earliest=opens, reason="Check-in has not opened yet"
        )
    updated = await Appointment.get_pymongo_collection().find_one_and_update(
        {"_id": appointment.id, "status": {"$in": [s.value for s in OPEN]}, "checked_in_at": None},
        {"$set": {"checked_in_at": now, "updated_at": now}},
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:  # checked in, cancelled or moved on meanwhile: say what it is now
        current = await get_appointment(caller, appointment_id)
        if current.checked_in_at is not None and current.status in OPEN:
            return current
        raise InvalidTransition(current.status.value, "CHECKED_IN")
    checked_in = Appointment.model_validate(updated)
    assert checked_in.id is not None
    await record(
        caller,
        now,
        Change(
            "appointment.checked_in",
            "appointment",
            checked_in.id,
            before={"checked_in_at": None},
            after={"checked_in_at": now},
        ),
    )
    await publish(
        AppointmentChanged(kind=AppointmentEventKind.CHECKED_IN, appointment=checked_in, at=now)
    )
    return checked_in

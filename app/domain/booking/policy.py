"""Booking policy: how soon and how far ahead a patient may book, and how late it may cancel.

Admins are never bound; a doctor cancelling its own appointment is not bound either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from beanie import PydanticObjectId

from app.core.errors import OutsideBookingWindow, TooLateToCancel
from app.domain.auth.actor import Actor
from app.domain.read_model import serving_model
from app.models import Appointment, Doctor, Role
from app.settings import get_settings


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


async def require_bookable(
    actor: Actor, doctor_id: PydanticObjectId, starts_at: datetime, now: datetime
) -> None:
    """A patient's future slot must start inside its doctor's window; no check for anyone
    else. Past slots are left to the claim, which calls them unavailable."""
    if actor.role is not Role.PATIENT or starts_at <= now:
        return
    doctor = await policy_doctor(doctor_id)
    if doctor is not None:
        require_within_window(actor, doctor, starts_at, now)


async def policy_doctor(doctor_id: PydanticObjectId) -> Doctor | None:
    """The doctor whose booking window applies: from the read model's catalogue when it may
    answer (no store round trip; a policy change drops it in every process), else read."""
    model = serving_model()
    if model is not None:
        (doctor,) = await model.doctors_by_id([doctor_id])
        return doctor
    return await Doctor.get(doctor_id)


def cancellation_cutoff(appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(minutes=get_settings().cancellation_cutoff_minutes)


def require_before_cutoff(actor: Actor, appointment: Appointment, now: datetime) -> None:
    """A patient cancels or reschedules only before the cutoff; its doctor and admins any time."""
    if actor.role is not Role.PATIENT:
        return
    cutoff = cancellation_cutoff(appointment)
    if now > cutoff:
        raise TooLateToCancel(cutoff)

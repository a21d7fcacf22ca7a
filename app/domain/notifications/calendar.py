"""iCalendar (RFC 5545) events of appointments, for email attachments and calendar feeds.

Made with the `icalendar` library. Each appointment is one event whose UID never changes;
SEQUENCE is the appointment's change number, so a calendar app replaces what it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from app.models import Appointment, AppointmentStatus, Doctor, Specialty, User

PRODUCT_ID = "-//AayuLink//Booking//EN"


@dataclass(frozen=True)
class Visit:
    """One appointment and what its event names."""

    appointment: Appointment
    doctor: Doctor | None
    patient: User | None
    specialty: Specialty | None


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@aayulink"


def _event(
    visit: Visit,
    zone: str,
    stamp: datetime,
    cancelled: bool,
    organizer: str | None,
    attendee: str | None,
) -> Event:
    appointment = visit.appointment
    tz = ZoneInfo(zone)
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", appointment.starts_at.astimezone(tz))
    event.add("dtend", appointment.ends_at.astimezone(tz))
    doctor = visit.doctor.name if visit.doctor else "the doctor"
    patient = visit.patient.name if visit.patient else "a patient"
    specialty = f" ({visit.specialty.name})" if visit.specialty else ""
    event.add("summary", f"Appointment: {patient} with {doctor}{specialty}")
    if appointment.virtual_meeting_link:
        event.add("location", appointment.virtual_meeting_link)
    if visit.doctor is not None and visit.doctor.timezone != zone:
        local = appointment.starts_at.astimezone(ZoneInfo(visit.doctor.timezone))
        event.add("description", f"At the clinic: {local:%H:%M} ({visit.doctor.timezone})")
    if organizer:
        event.add("organizer", f"mailto:{parseaddr(organizer)[1]}")
    if attendee:
        event.add("attendee", f"mailto:{attendee}")
    event.add(
        "status",
        "CANCELLED"
        if cancelled or appointment.status is AppointmentStatus.CANCELLED
        else "CONFIRMED",
    )
    return event


def calendar(
    visits: Iterable[Visit],
    zone: str,
    stamp: datetime,
    method: str,
    cancelled: bool = False,
    organizer: str | None = None,
    attendee: str | None = None,
) -> bytes:
    """A calendar of these visits, times in `zone` with its VTIMEZONE; `method` is PUBLISH for
    a feed, REQUEST or CANCEL for an email (RFC 5546)."""
    cal = Calendar()
    cal.add("prodid", PRODUCT_ID)
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add("calscale", "GREGORIAN")
    events = [_event(visit, zone, stamp, cancelled, organizer, attendee) for visit in visits]
    if events:
        cal.add_component(_vtimezone(zone))
    for event in events:
        cal.add_component(event)
    return bytes(cal.to_ical())


@lru_cache(maxsize=64)
def _vtimezone(zone: str) -> Timezone:
    """The zone's VTIMEZONE, made once: icalendar derives it from the zone's whole history
    (about 85 ms), which every message and feed would otherwise pay again."""
    return Timezone.from_tzinfo(ZoneInfo(zone))

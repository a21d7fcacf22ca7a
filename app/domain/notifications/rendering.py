"""What a notification says: subject, plain text and HTML, in the recipient's timezone.

Templates are jinja2 (templates.py); HTML is autoescaped, so a name like
`<script>` arrives as text. The plain text is what in-app notifications show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape

from app.domain.notifications.templates import HTML, TEXT
from app.models import (
    Appointment,
    Doctor,
    EmergencyRequest,
    Notification,
    NotificationKind,
    Specialty,
    User,
)

_environment = Environment(
    loader=DictLoader({"notification.txt": TEXT, "notification.html": HTML}),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

SUBJECTS = {
    NotificationKind.BOOKED: "Appointment booked: {when}",
    NotificationKind.CONFIRMED: "Appointment confirmed: {when}",
    NotificationKind.RESCHEDULED: "Appointment moved to {when}",
    NotificationKind.CANCELLED: "Appointment cancelled: {when}",
    NotificationKind.REMINDER: "Reminder: appointment {when}",
    NotificationKind.EMERGENCY: "Emergency request from {patient}",
}


@dataclass(frozen=True)
class Facts:
    """Everything a notification may mention, read once per sender batch."""

    notification: Notification
    recipient: User | None
    recipient_zone: str
    appointment: Appointment | None = None
    patient: User | None = None
    doctor: Doctor | None = None
    specialty: Specialty | None = None
    emergency: EmergencyRequest | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def local_time(at: datetime, zone: str) -> str:
    """ "Mon 7 Dec 2026, 14:30 IST": the zone's abbreviation as it stands on that day."""
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def when(at: datetime, zone: str, doctor_zone: str | None) -> str:
    """In the reader's zone, naming the doctor's when the two differ."""
    shown = f"{local_time(at, zone)} ({zone})"
    if doctor_zone and doctor_zone != zone:
        shown += f"; {local_time(at, doctor_zone)} at the clinic ({doctor_zone})"
    return shown


def render(facts: Facts) -> Rendered:
    note = facts.notification
    zone = facts.recipient_zone
    doctor_zone = facts.doctor.timezone if facts.doctor is not None else None
    appointment = facts.appointment
    starts = when(appointment.starts_at, zone, doctor_zone) if appointment else None
    previous = (
        when(note.previous_starts_at, zone, doctor_zone)
        if note.previous_starts_at is not None
        else None
    )
    context = {
        "kind": note.kind.value,
        "recipient": facts.recipient.name if facts.recipient else "",
        "patient": facts.patient.name if facts.patient else "",
        "doctor": facts.doctor.name if facts.doctor else "",
        "specialty": facts.specialty.name if facts.specialty else "",
        "starts": starts,
        "previous": previous,
        "reason": appointment.cancellation_reason if appointment else None,
        "offset_minutes": note.offset_minutes,
        "message": facts.emergency.message if facts.emergency else None,
        "meeting_link": appointment.virtual_meeting_link if appointment else None,
    }
    short = local_time(appointment.starts_at, zone) if appointment is not None else ""
    subject = SUBJECTS[note.kind].format(when=short, patient=context["patient"])
    return Rendered(
        subject=" ".join(subject.split()),  # no line breaks in a header, whatever a name holds
        text=_environment.get_template("notification.txt").render(context),
        html=_environment.get_template("notification.html").render(context),
    )

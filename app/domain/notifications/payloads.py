"""The JSON a webhook receives: enough for an SMS gateway or an EHR to act on alone."""

from __future__ import annotations

from typing import Any

from app.domain.notifications.recipients import zone_of
from app.domain.notifications.rendering import Facts, Rendered
from app.models import User


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": str(user.id),
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "timezone": zone_of(user),
    }


def webhook_payload(facts: Facts, rendered: Rendered) -> dict[str, Any]:
    note = facts.notification
    appointment = facts.appointment
    payload: dict[str, Any] = {
        "id": str(note.id),
        "kind": note.kind.value,
        "createdAt": note.created_at.isoformat(),
        "subject": rendered.subject,
        "text": rendered.text,
        "patient": _person(facts.patient),
        "appointment": None,
        "emergency": None,
    }
    if appointment is not None:
        payload["appointment"] = {
            "id": str(appointment.id),
            "status": appointment.status.value,
            "startsAt": appointment.starts_at.isoformat(),
            "endsAt": appointment.ends_at.isoformat(),
            "sequence": appointment.sequence,
            "doctor": None
            if facts.doctor is None
            else {
                "id": str(facts.doctor.id),
                "name": facts.doctor.name,
                "timezone": facts.doctor.timezone,
            },
            "specialty": facts.specialty.name if facts.specialty else None,
        }
    if facts.emergency is not None:
        payload["emergency"] = {"id": str(facts.emergency.id), "message": facts.emergency.message}
    if note.offset_minutes is not None:
        payload["reminderMinutesBefore"] = note.offset_minutes
    return payload

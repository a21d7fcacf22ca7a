"""Calendar feeds and unsubscribe links: what the two plain HTTP endpoints answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.clock import utcnow
from app.domain.notifications.calendar import Visit, calendar
from app.domain.notifications.facts import by_id
from app.domain.notifications.recipients import zone_of
from app.domain.notifications.tokens import read_unsubscribe_token
from app.models import Appointment, Doctor, Role, Specialty, User

FEED_PAST = timedelta(days=30)
TOKEN_MAX = 100


async def feed(token: str) -> bytes | None:
    """The iCalendar feed behind a calendar token; None for a token that is not current."""
    if not token or len(token) > TOKEN_MAX:
        return None
    user = await User.find_one({"calendar_token": token})
    if user is None:
        return None
    now = utcnow()
    query: dict[str, Any]
    if user.role is Role.DOCTOR and user.doctor_id is not None:
        query = {"doctor_id": user.doctor_id}
    else:
        query = {"patient_id": user.id}
    # Through the single-field index; the window is applied here.
    found = [a for a in await Appointment.find(query).to_list() if a.ends_at >= now - FEED_PAST]
    found.sort(key=lambda a: (a.starts_at, str(a.id)))
    doctors = await by_id(Doctor, (a.doctor_id for a in found))
    patients = await by_id(User, (a.patient_id for a in found))
    specialties = await by_id(Specialty, (a.specialty_id for a in found))
    visits = [
        Visit(
            a,
            doctors.get(a.doctor_id),
            patients.get(a.patient_id),
            specialties.get(a.specialty_id),
        )
        for a in found
    ]
    own = doctors.get(user.doctor_id) if user.doctor_id is not None else None
    if user.doctor_id is not None and own is None:
        own = await Doctor.get(user.doctor_id)
    return calendar(visits, zone_of(user, own.timezone if own else None), now, "PUBLISH")


async def unsubscribe(token: str) -> str | None:
    """Turns the token's user's email off: "done", "already" or None (forged or stale)."""
    read = read_unsubscribe_token(token) if len(token) <= 300 else None
    if read is None:
        return None
    user_id, issued_at = read
    user = await User.get(user_id)
    if user is None:
        return None
    prefs = user.notification_preferences
    if not prefs.email:
        return "already"
    if prefs.changed_at is not None and issued_at < prefs.changed_at:
        return None  # an old email's link cannot undo a choice made since
    result = await User.get_pymongo_collection().update_one(
        {"_id": user_id, "notification_preferences.email": {"$ne": False}},
        {
            "$set": {
                "notification_preferences.email": False,
                "notification_preferences.changed_at": utcnow(),
            }
        },
    )
    return "done" if result.modified_count else "already"

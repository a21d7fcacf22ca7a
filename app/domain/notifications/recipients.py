"""Who hears of a change, and on which channels their preferences allow."""

from __future__ import annotations

import time

from beanie import PydanticObjectId

from app.models import NotificationKind, NotificationPreferences, Role, User
from app.settings import get_settings
from app.store import lanes

# Every kind a role may get; email goes out for the role's defaults unless the user chose.
# A doctor hears of every booking in-app and in the calendar feed: email only for changes.
DEFAULT_EMAIL_KINDS: dict[Role, frozenset[NotificationKind]] = {
    Role.PATIENT: frozenset(
        {
            NotificationKind.BOOKED,
            NotificationKind.CONFIRMED,
            NotificationKind.RESCHEDULED,
            NotificationKind.CANCELLED,
            NotificationKind.REMINDER,
        }
    ),
    Role.DOCTOR: frozenset({NotificationKind.RESCHEDULED, NotificationKind.CANCELLED}),
    Role.ADMIN: frozenset({NotificationKind.EMERGENCY}),
}

_DOCTOR_USER_SECONDS = 60.0
_doctor_users: dict[PydanticObjectId, tuple[float, PydanticObjectId | None]] = {}


def email_kinds(user: User) -> list[NotificationKind]:
    chosen = user.notification_preferences.kinds
    if chosen is not None:
        return list(chosen)
    return sorted(DEFAULT_EMAIL_KINDS.get(user.role, frozenset()))


def wants_email(user: User, kind: NotificationKind) -> bool:
    prefs: NotificationPreferences = user.notification_preferences
    if not prefs.email:
        return False
    if kind is NotificationKind.REMINDER and not prefs.reminders:
        return False
    return kind in email_kinds(user)


def wants_in_app(user: User, kind: NotificationKind) -> bool:
    """In-app is always on, except reminders for someone who turned reminders off."""
    return kind is not NotificationKind.REMINDER or user.notification_preferences.reminders


def zone_of(user: User, doctor_zone: str | None = None) -> str:
    """The user's own zone; for a doctor's login without one, its doctor's; else the clinic's."""
    return user.timezone or doctor_zone or get_settings().clinic_timezone


async def doctor_user(doctor_id: PydanticObjectId) -> PydanticObjectId | None:
    """The login of a doctor, if it has one: remembered a minute, so a booking's outbox write
    costs no read for a doctor seen lately."""
    now = time.monotonic()
    known = _doctor_users.get(doctor_id)
    if known is not None and known[0] > now:
        return known[1]
    found = await lanes.collection(User).find_one({"doctor_id": doctor_id}, {"_id": 1})
    user_id = None if found is None else PydanticObjectId(found["_id"])
    _doctor_users[doctor_id] = (now + _DOCTOR_USER_SECONDS, user_id)
    return user_id


async def admin_ids() -> list[PydanticObjectId]:
    found = await lanes.collection(User).find({"role": Role.ADMIN.value}, {"_id": 1}).to_list(None)
    return [PydanticObjectId(u["_id"]) for u in found]

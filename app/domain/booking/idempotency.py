"""Idempotent mutations: a retry with a key its caller already used gets the first result.

bookAppointment keys by patient and keeps the key on the appointment it inserts, under a
unique partial index, so two retries racing each other still leave one appointment.

rescheduleAppointment, cancelAppointment and lockSlot keep the key on the document they
change (the appointment's `change_key`, the slot's `lock_key`), with the request it came
with, written in the same update as the change. The read each of them already makes of its
target shows a retry, so a key costs no extra round trip on the normal path; a unique
partial index refuses one key for two targets in that same write; the key is in the
update's filter, so of concurrent duplicates exactly one writes. The price is memory: a
document keeps only its latest key, so a key is honoured until the next keyed change of
that appointment or slot, and the stored keys never outnumber the documents.
"""

from __future__ import annotations

from dataclasses import dataclass

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.errors import BadUserInput
from app.domain import validation
from app.models import Appointment
from app.store.queries import appointments

FIELD = "idempotencyKey"
KEY_MAX = 128


def checked_key(key: str | None) -> str | None:
    return None if key is None else validation.printable_key(key, FIELD, KEY_MAX)


def stored_key(owner_id: PydanticObjectId, key: str) -> str:
    """Per user: another user's identical key is a different key."""
    return f"{owner_id}|{key}"


async def first_booking(stored: str | None) -> Appointment | None:
    if stored is None:
        return None
    return await appointments.by_idempotency_key(stored)


def is_key_clash(exc: DuplicateKeyError, field: str = "idempotency_key") -> bool:
    """The write lost to an earlier use of the same key, not to another unique rule."""
    details = exc.details or {}
    return field in (details.get("keyPattern") or {}) or field in str(details.get("errmsg", exc))


@dataclass(frozen=True)
class Keyed:
    """A caller's key as stored, and the request it came with (what a retry must repeat)."""

    key: str
    request: str


def keyed(owner_id: PydanticObjectId, key: str | None, *request: object) -> Keyed | None:
    checked = checked_key(key)
    if checked is None:
        return None
    return Keyed(stored_key(owner_id, checked), "|".join(str(part) for part in request))


def is_replay(keyed: Keyed | None, stored: str | None, stored_request: str | None) -> bool:
    """True when the document already holds this request's change; the key with another
    request is refused rather than silently answered with the first one's result."""
    if keyed is None or stored != keyed.key:
        return False
    if stored_request != keyed.request:
        raise key_reused()
    return True


def key_reused() -> BadUserInput:
    return BadUserInput(f"{FIELD} was already used for a different request", field=FIELD)

"""Idempotent booking: a retried request with a key its patient already used gets the first
appointment back. The key is stored as "<patient id>|<key>" under a unique partial index, so
two retries racing each other still leave one appointment."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.domain import validation
from app.models import Appointment

FIELD = "idempotencyKey"
KEY_MAX = 128


def checked_key(key: str | None) -> str | None:
    return None if key is None else validation.printable_key(key, FIELD, KEY_MAX)


def stored_key(patient_id: PydanticObjectId, key: str) -> str:
    """Per patient: another patient's identical key is a different key."""
    return f"{patient_id}|{key}"


async def first_booking(stored: str | None) -> Appointment | None:
    if stored is None:
        return None
    return await Appointment.find_one({"idempotency_key": stored})


def is_key_clash(exc: DuplicateKeyError) -> bool:
    """The insert lost to a booking with the same key, not to another booking of the slot."""
    details = exc.details or {}
    return "idempotency_key" in (details.get("keyPattern") or {}) or "idempotency_key" in str(
        details.get("errmsg", exc)
    )

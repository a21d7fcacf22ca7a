"""A slot's state, derived from its fields, and the store filters that select by state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId

from app.models import Slot


class SlotState(StrEnum):
    AVAILABLE = "AVAILABLE"
    LOCKED = "LOCKED"
    BOOKED = "BOOKED"
    UNAVAILABLE = "UNAVAILABLE"


def lock_is_live(slot: Slot, now: datetime) -> bool:
    lock = slot.booking_lock
    return bool(lock.is_active and lock.expires_at and lock.expires_at > now)


def slot_state(slot: Slot, now: datetime) -> SlotState:
    """UNAVAILABLE > BOOKED > LOCKED (unexpired lock) > AVAILABLE, as the contract orders them."""
    if slot.is_removed or not slot.is_available or not slot.doctor_is_active:
        return SlotState.UNAVAILABLE
    if slot.is_booked:
        return SlotState.BOOKED
    if lock_is_live(slot, now):
        return SlotState.LOCKED
    return SlotState.AVAILABLE


def open_for(patient_id: PydanticObjectId | None, now: datetime) -> dict[str, Any]:
    """Slots a patient may claim now: enabled, future, unbooked, and not held by someone else."""
    holders: list[dict[str, Any]] = [
        {"booking_lock.is_active": {"$ne": True}},
        {"booking_lock.expires_at": {"$lte": now}},
    ]
    if patient_id is not None:
        holders.append({"booking_lock.patient_id": patient_id})
    return {
        "is_removed": False,
        "doctor_is_active": {"$ne": False},
        "is_available": True,
        "is_booked": False,
        "starts_at": {"$gt": now},
        "$or": holders,
    }


def is_open(slot: Slot, now: datetime) -> bool:
    """`open_for(None, now)` tested on a slot in memory (the read model's slots): the same
    conditions, field by field, so both paths call the same slots bookable."""
    lock = slot.booking_lock
    return (
        not slot.is_removed
        and slot.doctor_is_active is not False
        and slot.is_available is True
        and slot.is_booked is False
        and slot.starts_at > now
        and (lock.is_active is not True or (lock.expires_at is not None and lock.expires_at <= now))
    )


# An unlocked slot stores no lock fields, so it stays out of the sparse `live_locks` index.
NO_LOCK: dict[str, Any] = {}


def claim_stamp(now: datetime) -> dict[str, Any]:
    """What every booking claim writes: the reconciler checks the slot until it has seen an
    active appointment on it (a crash between claim and appointment leaves none)."""
    return {"booked_at": now, "awaiting_check": True, "updated_at": now}


def check_stamp(now: datetime) -> dict[str, Any]:
    """What a cancel writes on its booked slot before saving itself: should freeing the slot
    then fail (or the process die), the reconciler finds it booked for no active appointment
    and frees it. `updated_at` is left alone: nothing a client sees has changed yet."""
    return {"booked_at": now, "awaiting_check": True}

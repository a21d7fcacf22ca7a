"""A slot's state, derived from its fields (the store filters that select by state are in
app/store/queries/slots.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from app.domain.slots.pending_regeneration import slot_awaits_regeneration
from app.models import Doctor, Slot


class SlotState(StrEnum):
    AVAILABLE = "AVAILABLE"
    LOCKED = "LOCKED"
    BOOKED = "BOOKED"
    UNAVAILABLE = "UNAVAILABLE"


def lock_is_live(slot: Slot, now: datetime) -> bool:
    lock = slot.booking_lock
    return bool(lock.is_active and lock.expires_at and lock.expires_at > now)


def slot_state(slot: Slot, now: datetime, doctor: Doctor | None) -> SlotState:
    """UNAVAILABLE > BOOKED > LOCKED (unexpired lock) > AVAILABLE, as the contract orders them.
    An inactive doctor's slots are all UNAVAILABLE: the flag is the doctor's, not the slot's;
    so are the slots a time zone move has not regenerated yet."""
    takes_it = (
        doctor is not None and doctor.is_active and not slot_awaits_regeneration(doctor, slot)
    )
    if slot.is_removed or not slot.is_available or not takes_it:
        return SlotState.UNAVAILABLE
    if slot.is_booked:
        return SlotState.BOOKED
    if lock_is_live(slot, now):
        return SlotState.LOCKED
    return SlotState.AVAILABLE


def is_open(slot: Slot, now: datetime) -> bool:
    """`open_for(None, now)` (app/store/queries/slots.py) tested on a slot in memory (the
    read model's slots): the same conditions, field by field, so both paths call the same
    slots bookable. Like it, it leaves the doctor's own flag to the caller."""
    lock = slot.booking_lock
    return (
        not slot.is_removed
        and slot.is_available is True
        and slot.is_booked is False
        and slot.starts_at > now
        and (lock.is_active is not True or (lock.expires_at is not None and lock.expires_at <= now))
    )

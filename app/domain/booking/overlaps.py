"""A patient cannot hold two active appointments that overlap in time."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.core.errors import Conflict, SlotAlreadyBooked
from app.models import Slot
from app.store.queries import appointments


async def require_no_overlap(
    patient: PydanticObjectId,
    slot: Slot,
    moving: PydanticObjectId | None = None,
) -> None:
    """Read under the patient's lease (app/store/guards.py), so it stays true until the write;
    `moving` is an appointment being rescheduled, which does not overlap itself."""
    overlapping = await appointments.overlapping(patient, slot.starts_at, slot.ends_at, moving)
    if overlapping is None:
        return
    if overlapping.get("slot_id") == slot.id:
        raise SlotAlreadyBooked("You have already booked this slot")
    raise Conflict("You already have an appointment at this time", field="slotId")

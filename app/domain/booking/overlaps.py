"""A patient cannot hold two active appointments that overlap in time."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.core.errors import Conflict, SlotAlreadyBooked
from app.models import ACTIVE_STATUSES, Appointment, Slot


async def require_no_overlap(
    patient: PydanticObjectId,
    slot: Slot,
    moving: PydanticObjectId | None = None,
) -> None:
    """Read under the patient's lease (app/store/guards.py), so it stays true until the write;
    `moving` is an appointment being rescheduled, which does not overlap itself."""
    query: dict[str, object] = {
        "patient_id": patient,
        "status": {"$in": ACTIVE_STATUSES},
        "starts_at": {"$lt": slot.ends_at},
        "ends_at": {"$gt": slot.starts_at},
    }
    if moving is not None:
        query["_id"] = {"$ne": moving}
    overlapping = await Appointment.get_pymongo_collection().find_one(
        query, {"_id": 1, "slot_id": 1}
    )
    if overlapping is None:
        return
    if overlapping.get("slot_id") == slot.id:
        raise SlotAlreadyBooked("You have already booked this slot")
    raise Conflict("You already have an appointment at this time", field="slotId")

"""Repairs a slot left BOOKED with no active appointment (a crash mid-booking, no transactions)."""

from __future__ import annotations

from datetime import timedelta

from pymongo import ReturnDocument

from app.domain.clock import utcnow
from app.events.messages import SlotChanged, SlotEventKind
from app.events.publisher import publish
from app.models import ACTIVE_STATUSES, Appointment, Slot


async def release_orphaned_bookings(grace_seconds: int, limit: int = 200) -> list[Slot]:
    """Free slots booked longer ago than `grace_seconds` that no active appointment holds."""
    now = utcnow()
    cutoff = now - timedelta(seconds=grace_seconds)
    slots = Slot.get_pymongo_collection()
    booked = await slots.find(
        {"is_booked": True, "updated_at": {"$lte": cutoff}, "starts_at": {"$gt": now}},
        {"_id": 1, "updated_at": 1},
    ).to_list(limit)
    if not booked:
        return []
    held = set(
        await Appointment.get_pymongo_collection().distinct(
            "slot_id",
            {"slot_id": {"$in": [s["_id"] for s in booked]}, "status": {"$in": ACTIVE_STATUSES}},
        )
    )
    released: list[Slot] = []
    for orphan in (s for s in booked if s["_id"] not in held):
        doc = await slots.find_one_and_update(
            {"_id": orphan["_id"], "is_booked": True, "updated_at": orphan["updated_at"]},
            {"$set": {"is_booked": False, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            slot = Slot.model_validate(doc)
            released.append(slot)
            await publish(SlotChanged(kind=SlotEventKind.RELEASED, slot=slot, at=now))
    return released

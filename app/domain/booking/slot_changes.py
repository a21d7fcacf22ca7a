"""A booking's effect on its slot, the same from every path: freeing it when its appointment
leaves it, and how that reads in the audit log."""

from __future__ import annotations

import logging
from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import PyMongoError

from app.domain.audit.recorder import Change
from app.domain.slots.writes import update_slot
from app.models import Slot

log = logging.getLogger(__name__)


async def free_slot(slot_id: PydanticObjectId, now: datetime, done: str) -> Slot | None:
    """After a cancel or a move is saved, its old slot (when still future) is free again.

    A store error here is logged, not the answer: the slot was marked for the reconciler's
    check before the change was saved, and its next pass frees it.
    """
    try:
        return await update_slot(
            {"_id": slot_id, "is_booked": True, "starts_at": {"$gt": now}},
            {"is_booked": False, "updated_at": now},
        )
    except PyMongoError:
        log.exception("%s, but could not free slot %s", done, slot_id)
        return None


def booked_slot(slot_id: PydanticObjectId, appointment_id: PydanticObjectId) -> Change:
    """An AVAILABLE slot taken by an appointment (booked, or moved into by rescheduling)."""
    return Change(
        "slot.booked",
        "slot",
        slot_id,
        before={"is_booked": False},
        after={"is_booked": True, "appointment_id": appointment_id},
    )


def released_slot(slot_id: PydanticObjectId) -> Change:
    """A booked slot made AVAILABLE again by its appointment leaving it."""
    return Change(
        "slot.released", "slot", slot_id, before={"is_booked": True}, after={"is_booked": False}
    )

"""Repairs a slot left BOOKED with no active appointment (a crash mid-booking, no transactions)."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.audit.recorder import record
from app.domain.booking.appointments import released_slot
from app.domain.clock import utcnow
from app.domain.slots.writes import update_slot
from app.events.messages import SlotChanged, SlotEventKind
from app.events.publisher import publish
from app.models import ACTIVE_STATUSES, Appointment, Slot

BACKLOG = timedelta(days=1)


class OrphanedBookingReconciler:
    """Checks each booked slot once, after the grace period, by walking `updated_at` forward.

    A booking writes the slot (claim) and then its appointment; a slot whose last change is
    older than the grace period and that no active appointment holds was never completed.
    Walking a cursor keeps each pass to the slots changed since the last one.
    """

    def __init__(self, grace_seconds: int) -> None:
        self.grace = timedelta(seconds=grace_seconds)
        self.checked_until: datetime | None = None

    async def run(self, limit: int = 500) -> list[Slot]:
        now = utcnow()
        until = now - self.grace
        since = self.checked_until or (until - BACKLOG)
        slots = Slot.get_pymongo_collection()
        booked = (
            await slots.find(
                {"is_booked": True, "updated_at": {"$gt": since, "$lte": until}},
                {"_id": 1, "updated_at": 1},
            )
            .sort("updated_at", 1)
            .to_list(limit)
        )
        self.checked_until = booked[-1]["updated_at"] if len(booked) == limit else until
        if not booked:
            return []
        held = set(
            await Appointment.get_pymongo_collection().distinct(
                "slot_id",
                {
                    "slot_id": {"$in": [s["_id"] for s in booked]},
                    "status": {"$in": ACTIVE_STATUSES},
                },
            )
        )
        released: list[Slot] = []
        for orphan in (s for s in booked if s["_id"] not in held):
            slot = await update_slot(
                {"_id": orphan["_id"], "is_booked": True, "updated_at": orphan["updated_at"]},
                {"is_booked": False, "updated_at": now},
            )
            if slot is not None:
                released.append(slot)
                await publish(SlotChanged(kind=SlotEventKind.RELEASED, slot=slot, at=now))
        await record(None, now, *(released_slot(s.id) for s in released if s.id is not None))
        return released

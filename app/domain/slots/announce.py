"""How slot changes reach subscribers: an event per slot, or one notice for a bulk change."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.events.messages import EventsMissedReason, Resync, SlotChanged
from app.events.publisher import publish

# Well under a subscriber's queue (Hub.queue_size, 256): more events than this from one
# change would end the subscriptions that follow the doctor, so they get one notice instead.
BULK_EVENTS = 100


async def announce_slot_changes(
    doctor_id: PydanticObjectId, changed: int, events: Callable[[], Sequence[SlotChanged]]
) -> None:
    """`events()` one by one, or, when more than BULK_EVENTS slots changed, one
    SLOTS_CHANGED_IN_BULK notice naming the doctor (the events are then never built)."""
    if changed <= BULK_EVENTS:
        await publish(*events())
        return
    await announce_bulk(doctor_id)


async def announce_bulk(doctor_id: PydanticObjectId) -> None:
    """Subscribers re-query the doctor's slots; read models drop the doctor's days."""
    await publish(
        Resync(at=utcnow(), reason=EventsMissedReason.SLOTS_CHANGED_IN_BULK, doctor_id=doctor_id)
    )

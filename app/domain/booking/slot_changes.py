"""How a booking's effect on its slot reads in the audit log, the same from every path."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.domain.audit.recorder import Change


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

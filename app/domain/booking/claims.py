"""Why a slot could not be claimed: read once after the atomic update said no."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId

from app.core.errors import NotFound, SlotAlreadyBooked, SlotLocked, SlotUnavailable
from app.domain.slots.state import lock_is_live
from app.models import Slot


async def refusal(
    slot_id: PydanticObjectId,
    patient_id: PydanticObjectId,
    now: datetime,
    claim_key: str | None = None,
) -> Exception:
    """The error that explains the refusal; a retry marker when the slot is claimable again,
    a resume marker when the slot holds this booking's own unfinished claim."""
    slot = await Slot.get(slot_id)
    if slot is None:
        return NotFound("Slot", field="slotId")
    if slot.starts_at <= now:
        return SlotUnavailable("The slot is in the past")
    if slot.is_removed or not slot.is_available or not slot.doctor_is_active:
        return SlotUnavailable("The slot is not available")
    if slot.is_booked:
        if claim_key is not None and slot.claim_key == claim_key:
            return Resume(slot)
        return SlotAlreadyBooked()
    if lock_is_live(slot, now) and slot.booking_lock.patient_id != patient_id:
        return SlotLocked(slot.booking_lock.expires_at)
    return _Retry()


class ClaimRefused(Exception):
    """The atomic claim matched nothing; `refusal` reads the slot to say why."""

    def __init__(self, at: datetime) -> None:
        super().__init__("slot claim refused")
        self.at = at


class Resume(Exception):
    """The slot is booked by this booking's own claim, which an earlier attempt (with the same
    idempotency key) made but could not finish: finish it instead of refusing the patient."""

    def __init__(self, slot: Slot) -> None:
        super().__init__("resume the booking's own claim")
        self.slot = slot


class _Retry(Exception):
    """The slot changed between the refused update and the read: try the update again."""


def should_retry(error: Exception) -> bool:
    return isinstance(error, _Retry)

"""Claiming a slot for a patient (a booking or a move): the retry loop, and why a claim was
refused, read once after the atomic update said no."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.errors import NotFound, SlotAlreadyBooked, SlotLocked, SlotUnavailable
from app.domain.slots.state import lock_is_live
from app.models import Slot, User
from app.store.guards import guarded

CLAIM_ATTEMPTS = 3


async def claim_for[T](
    patient: PydanticObjectId,
    slot_id: PydanticObjectId,
    attempt: Callable[[Slot | None], Awaitable[T]],
    claim_key: str | None = None,
) -> T:
    """Runs `attempt` (which claims the slot with one atomic update, or raises ClaimRefused)
    under the patient's lease, which keeps its overlap check true until the appointment is
    written. A refusal that the slot's state no longer explains is tried again; one that is
    this booking's own unfinished claim (same `claim_key`) is handed to `attempt` to finish."""
    resumed: Slot | None = None
    for _ in range(CLAIM_ATTEMPTS):
        try:
            async with guarded(User.get_pymongo_collection(), patient, "patient's bookings"):
                return await attempt(resumed)
        except ClaimRefused as refused:
            error = await refusal(slot_id, patient, refused.at, claim_key)
            resumed = error.slot if isinstance(error, Resume) else None
            if resumed is None and not should_retry(error):
                raise error from None
        except DuplicateKeyError as exc:
            raise SlotAlreadyBooked() from exc
    raise SlotLocked(None)


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

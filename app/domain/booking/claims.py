"""Claiming a slot for a patient (a booking or a move) and freeing it again: the retry
loop, why a claim was refused (read once after the atomic update said no), the free-slot
write, and how each reads in the audit log."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError, PyMongoError

from app.core.errors import NotFound, SlotAlreadyBooked, SlotLocked, SlotUnavailable
from app.domain.audit.recorder import Change
from app.domain.slots.state import lock_is_live
from app.models import Slot, User
from app.store.guards import guarded
from app.store.queries import slots

log = logging.getLogger(__name__)

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
    if slot.is_removed or not slot.is_available:
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


async def free_slot(slot_id: PydanticObjectId, now: datetime, done: str) -> Slot | None:
    """After a cancel or a move is saved, its old slot (when still future) is free again.

    A store error here is logged, not the answer: the slot was marked for the reconciler's
    check before the change was saved, and its next pass frees it.
    """
    try:
        return await slots.free_future(slot_id, now)
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

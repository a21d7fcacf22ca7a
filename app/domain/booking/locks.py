"""Slot locks: a patient holds a slot for a few minutes while it books, and sees the
slots it holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import (
    Forbidden,
    LockLimitReached,
    OutsideBookingWindow,
    SlotLocked,
    SlotUnavailable,
)
from app.domain import validation
from app.domain.audit import owed
from app.domain.audit.owed import OwedAudit
from app.domain.audit.recorder import Change, record
from app.domain.auth.actor import Actor, require_actor
from app.domain.booking import idempotency
from app.domain.booking.claims import CLAIM_ATTEMPTS, refusal, should_retry
from app.domain.booking.policy import acting_patient, require_bookable
from app.domain.read_model import announce_stale
from app.domain.read_model.doctors import doctor_now
from app.domain.slots.management import get_slot
from app.domain.slots.ordering import by_start
from app.domain.slots.state import lock_is_live
from app.events.messages import SlotChanged, SlotEventKind
from app.events.publisher import publish
from app.models import Role, Slot, User
from app.observability import metrics
from app.settings import get_settings
from app.store.guards import guarded
from app.store.queries import slots
from app.store.queries.slots import NO_LOCK, claim_slot, open_for


async def lock_slot(
    actor: Actor | None,
    slot_id: str,
    patient_id: str | None,
    idempotency_key: str | None = None,
) -> Slot:
    """Hold an AVAILABLE future slot, or renew the caller's own hold, in one atomic update.

    Claim first, then check: the claim returns the slot as it was, which names its doctor
    and start (the booking window) and whether this is a renewal, so the normal path costs
    two store round trips (the claim, with its audit entry owed on the slot, and the
    patient's live locks). A claim the window or the limit refuses is let go, its entry with
    it, before anyone is told of it.
    """
    settings = get_settings()
    limit = settings.max_locks_per_patient
    patient = await acting_patient(actor, patient_id)
    caller = require_actor(actor)
    slot_oid = validation.object_id(slot_id, "slotId")
    keyed = idempotency.keyed(caller.user_id, idempotency_key, patient)
    for _ in range(CLAIM_ATTEMPTS):
        now = utcnow()
        lock = {
            "patient_id": patient,
            "locked_at": now,
            "expires_at": now + timedelta(seconds=settings.slot_lock_ttl_seconds),
            "is_active": True,
        }
        conditions = {"_id": slot_oid, **open_for(patient, now)}
        if keyed is not None:
            conditions["lock_key"] = {"$ne": keyed.key}  # of concurrent duplicates, one writes
        audit = owed.owed(
            caller, now, Change("slot.locked", "slot", slot_oid, after={"booking_lock": lock})
        )
        try:
            claim = await claim_slot(
                conditions,
                {"booking_lock": lock, "updated_at": now, **_lock_key(keyed)},
                owed.push(audit),
            )
        except DuplicateKeyError as exc:
            if idempotency.is_key_clash(exc, "lock_key"):
                raise idempotency.key_reused() from exc
            raise
        if claim is not None:
            break
        error = await _why_refused(slot_oid, patient, now, keyed)
        if isinstance(error, Slot):
            return error
        if not should_retry(error):
            raise error
    else:
        raise SlotLocked(None)
    before, claimed = claim
    renewing = lock_is_live(before, now) and before.booking_lock.patient_id == patient
    await _keep_bookable(caller, before, claimed, now, audit)
    if not renewing:
        await _keep_within_limit(slot_oid, patient, limit, audit, before.audit_owed)
    owed.remember(Slot, slot_oid, audit, before.audit_owed)
    await publish(SlotChanged(kind=SlotEventKind.LOCKED, slot=claimed, at=now))
    return claimed


async def _why_refused(
    slot_id: PydanticObjectId,
    patient_id: PydanticObjectId,
    now: datetime,
    keyed: idempotency.Keyed | None,
) -> Exception | Slot:
    """After a refused claim: the slot, when a duplicate of this request locked it first;
    else the error that explains the refusal (or a retry marker)."""
    if keyed is not None:
        slot = await Slot.get(slot_id)
        if slot is not None and idempotency.is_replay(keyed, slot.lock_key, slot.lock_request):
            return slot
    return await refusal(slot_id, patient_id, now)


async def _keep_bookable(
    actor: Actor, before: Slot, claimed: Slot, now: datetime, audit: OwedAudit
) -> None:
    """A slot is held only while its doctor takes bookings and, for a patient, inside the
    doctor's booking window; else the slot gets back the lock it had (none, or this
    patient's earlier one), unannounced."""
    doctor = await doctor_now(claimed.doctor_id)
    try:
        require_bookable(actor, doctor, claimed, now)
    except (SlotUnavailable, OutsideBookingWindow):
        await _restore(before, claimed, audit)
        raise


async def _restore(before: Slot, claimed: Slot, audit: OwedAudit) -> None:
    """Undo a claim nobody was told of: only if it is still the claim this request made."""
    restored = await slots.restore_lock(
        claimed,
        {
            "booking_lock": before.booking_lock.model_dump(exclude_none=True),
            "updated_at": before.updated_at,
            "lock_key": before.lock_key,
            "lock_request": before.lock_request,
        },
        owed.pull(audit, before.audit_owed),
    )
    if restored is not None:
        await announce_stale(doctor_id=restored.doctor_id, dates=[restored.date])


def _lock_key(keyed: idempotency.Keyed | None) -> dict[str, str | None]:
    """Every lock names its key, or none: an unkeyed lock or renewal is a new request."""
    return {
        "lock_key": None if keyed is None else keyed.key,
        "lock_request": None if keyed is None else keyed.request,
    }


async def _keep_within_limit(
    slot_id: PydanticObjectId,
    patient_id: PydanticObjectId,
    limit: int,
    audit: OwedAudit,
    owing: OwedAudit | None,
) -> None:
    """After a new claim: over the limit, concurrent claims by one patient decide in turn.

    Each claim reads the patient's locks after its own write, so the last of any set of
    claims sees them all. Alone within the limit, it keeps its lock (one bounded read).
    Over it, the patient's lease (in the store, so across processes) lets one claim at a
    time re-read and let go while the patient still holds too many: exactly `limit` stay.
    """
    if len(await slots.live_lock_ids(patient_id, utcnow(), limit + 1)) <= limit:
        return
    try:
        async with guarded(
            User.get_pymongo_collection(), patient_id, "patient's slot locks", lease="lock_guard"
        ):
            if len(await slots.live_lock_ids(patient_id, utcnow(), limit + 1)) <= limit:
                return
            # Let go under the lease, so the next claim's re-read already sees one fewer.
            await _let_go(slot_id, patient_id, audit, owing)
    except Exception:
        # No lease, no answer: do not hold one too many.
        await _let_go(slot_id, patient_id, audit, owing)
        raise
    raise LockLimitReached(limit)


async def _let_go(
    slot_id: PydanticObjectId,
    patient_id: PydanticObjectId,
    audit: OwedAudit,
    owing: OwedAudit | None,
) -> None:
    """Release a claim refused over the limit, and its audit entry (`owing`: what the slot
    owed before the claim). It was never announced, nor is its release: read models that may
    have read it meanwhile drop that day instead."""
    released = await _release(slot_id, patient_id, forget_key=True, also=owed.pull(audit, owing))
    if released is not None:
        await announce_stale(doctor_id=released.doctor_id, dates=[released.date])


def _unlocked(slot_id: PydanticObjectId, lock: object, action: str) -> Change:
    """The lock as it was, and none after."""
    return Change(
        action, "slot", slot_id, before={"booking_lock": lock}, after={"booking_lock": None}
    )


async def _release(
    slot_id: PydanticObjectId,
    patient_id: PydanticObjectId | None,
    forget_key: bool = False,
    also: dict[str, object] | None = None,
) -> Slot | None:
    """`forget_key`: a lock refused over the limit, so that its retry is not a replay."""
    now = utcnow()
    changes: dict[str, object] = {"booking_lock": NO_LOCK, "updated_at": now}
    if forget_key:
        changes |= _lock_key(None)
    return await slots.release_lock(slot_id, patient_id, changes, also)


async def unlock_slot(actor: Actor | None, slot_id: str) -> Slot:
    """The holder (or an admin) lets go of a slot; unlocking an unheld slot changes nothing."""
    caller = require_actor(actor)
    slot = await get_slot(slot_id, "slotId")
    if caller.role is Role.DOCTOR:
        raise Forbidden("Doctors do not hold slot locks")
    if (
        lock_is_live(slot, utcnow())
        and not caller.is_admin
        and (slot.booking_lock.patient_id != caller.user_id)
    ):
        raise SlotLocked(slot.booking_lock.expires_at)
    released = await _release(slot.id, None if caller.is_admin else caller.user_id)  # type: ignore[arg-type]
    if released is None or released.id is None:
        return slot
    await record(
        caller, released.updated_at, _unlocked(released.id, slot.booking_lock, "slot.unlocked")
    )
    await publish(SlotChanged(kind=SlotEventKind.UNLOCKED, slot=released, at=released.updated_at))
    return released


async def release_expired_locks(limit: int = 200) -> list[Slot]:
    """Release locks past their expiry; each is released, and announced, by one process only.

    Each release is counted as it is written, so a later audit or publish failure in the same
    pass cannot lose the count of locks that did expire."""
    now = utcnow()
    expired = await slots.expired_locks(now, limit)
    released: list[Slot] = []
    expiries: list[Change] = []
    for candidate in expired:
        expires_at = candidate["booking_lock"]["expires_at"]
        slot = await slots.release_expired(candidate["_id"], expires_at, now)
        if slot is not None:
            released.append(slot)
            metrics.locks_expired(1)
            expiries.append(
                _unlocked(candidate["_id"], candidate["booking_lock"], "slot.lock_expired")
            )
            await publish(SlotChanged(kind=SlotEventKind.UNLOCKED, slot=slot, at=now))
    await record(None, now, *expiries)
    return released


async def my_locks(actor: Actor | None, now: datetime) -> list[Slot]:
    """The caller's unexpired, unbooked locks by start; only patients hold locks of their own."""
    caller = require_actor(actor)
    if caller.role is not Role.PATIENT:
        return []
    return by_start(await slots.held_locks(caller.user_id, now))

"""The slots collection: the filters that select slots by state, and every conditional write
to a slot (each one atomic update whose filter states the rule)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument, UpdateOne

from app.models import Slot

# An unlocked slot stores no lock fields, so it stays out of the sparse `live_locks` index.
NO_LOCK: dict[str, Any] = {}


def open_for(patient_id: PydanticObjectId | None, now: datetime) -> dict[str, Any]:
    """Slots a patient may claim now: enabled, future, unbooked, and not held by someone else.
    Whether their doctor takes bookings is the doctor's own flag, checked beside each claim
    (app/domain/booking/policy.py): deactivating a doctor writes no slot."""
    holders: list[dict[str, Any]] = [
        {"booking_lock.is_active": {"$ne": True}},
        {"booking_lock.expires_at": {"$lte": now}},
    ]
    if patient_id is not None:
        holders.append({"booking_lock.patient_id": patient_id})
    return {
        "is_removed": False,
        "is_available": True,
        "is_booked": False,
        "starts_at": {"$gt": now},
        "$or": holders,
    }


def claim_stamp(now: datetime) -> dict[str, Any]:
    """What every booking claim writes: the reconciler checks the slot until it has seen an
    active appointment on it (a crash between claim and appointment leaves none)."""
    return {"booked_at": now, "awaiting_check": True, "updated_at": now}


def check_stamp(now: datetime) -> dict[str, Any]:
    """What a cancel writes on its booked slot before saving itself: should freeing the slot
    then fail (or the process die), the reconciler finds it booked for no active appointment
    and frees it. `updated_at` is left alone: nothing a client sees has changed yet."""
    return {"booked_at": now, "awaiting_check": True}


def _live_locks_of(patient_id: PydanticObjectId, now: datetime) -> dict[str, Any]:
    return {
        "booking_lock.patient_id": patient_id,
        "booking_lock.is_active": True,
        "booking_lock.expires_at": {"$gt": now},
    }


def update_of(changes: dict[str, Any], also: dict[str, Any] | None = None) -> dict[str, Any]:
    """`changes` as an update: a None value removes the field (see update_slot). `also`: more
    operators on other fields (a change's owed audit entries, app/domain/audit/owed.py)."""
    update: dict[str, Any] = {"$set": {k: v for k, v in changes.items() if v is not None}}
    removed = {k: "" for k, v in changes.items() if v is None}
    if removed:
        update["$unset"] = removed
    for operator, fields in (also or {}).items():
        update[operator] = update.get(operator, {}) | fields
    return update


async def update_slot(
    conditions: dict[str, Any],
    changes: dict[str, Any],
    also: dict[str, Any] | None = None,
) -> Slot | None:
    """The slot as it is after the change, or None when the conditions no longer held.

    A None value removes the field rather than storing null, as the Slot model does on
    insert: a stored null would put the slot in the sparse indexes (two nulls would even
    clash in the unique `slot_lock_key_unique`)."""
    update = update_of(changes, also)
    doc = await Slot.get_pymongo_collection().find_one_and_update(
        conditions, update, return_document=ReturnDocument.AFTER
    )
    return None if doc is None else Slot.model_validate(doc)


async def claim_slot(
    conditions: dict[str, Any],
    changes: dict[str, Any],
    also: dict[str, Any] | None = None,
) -> tuple[Slot, Slot] | None:
    """(the slot before, the slot after) one conditional update, or None when it matched
    nothing: the store sends the document as it was, the change is applied to it here, so
    a caller learns what it replaced without a read of its own. `changes` are top-level
    fields, a None removing the field as in `update_slot`; `also` is not applied here."""
    update = update_of(changes, also)
    doc = await Slot.get_pymongo_collection().find_one_and_update(
        conditions, update, return_document=ReturnDocument.BEFORE
    )
    if doc is None:
        return None
    removed = update.get("$unset", {})
    # Top-level fields only: `also`'s dotted ones (owed audit entries) are the store's record.
    changed = {k: v for k, v in update["$set"].items() if "." not in k}
    after = {k: v for k, v in doc.items() if k not in removed} | changed
    return Slot.model_validate(doc), Slot.model_validate(after)


async def held_locks(patient_id: PydanticObjectId, now: datetime) -> list[Slot]:
    """The patient's unexpired locks on slots not yet booked."""
    conditions = _live_locks_of(patient_id, now) | {"is_booked": False, "is_removed": False}
    return await Slot.find(conditions).to_list()


async def live_lock_ids(
    patient_id: PydanticObjectId, now: datetime, limit: int
) -> set[PydanticObjectId]:
    """Up to `limit` of the patient's unexpired locks: a bounded read, never a count."""
    found = (
        await Slot.get_pymongo_collection()
        .find(_live_locks_of(patient_id, now), {"_id": 1})
        .limit(limit)
        .to_list()
    )
    return {PydanticObjectId(doc["_id"]) for doc in found}


async def expired_locks(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` locks past their expiry, as {_id, booking_lock}."""
    return (
        await Slot.get_pymongo_collection()
        .find(
            {"booking_lock.is_active": True, "booking_lock.expires_at": {"$lte": now}},
            {"_id": 1, "booking_lock": 1},
        )
        .to_list(limit)
    )


async def release_expired(
    slot_id: PydanticObjectId, expires_at: datetime, now: datetime
) -> Slot | None:
    """The expiry in the filter makes a renewal since the read win over this release."""
    return await update_slot(
        {"_id": slot_id, "booking_lock.is_active": True, "booking_lock.expires_at": expires_at},
        {"booking_lock": NO_LOCK, "updated_at": now},
    )


async def release_lock(
    slot_id: PydanticObjectId,
    holder: PydanticObjectId | None,
    changes: dict[str, Any],
    also: dict[str, Any] | None = None,
) -> Slot | None:
    """Let go of a live lock; of `holder`'s only, when named."""
    conditions: dict[str, Any] = {"_id": slot_id, "booking_lock.is_active": True}
    if holder is not None:
        conditions["booking_lock.patient_id"] = holder
    return await update_slot(conditions, changes, also)


async def restore_lock(
    claimed: Slot, changes: dict[str, Any], also: dict[str, Any] | None = None
) -> Slot | None:
    """Undo a lock claim: only while it is still the claim `claimed` shows."""
    return await update_slot(
        {
            "_id": claimed.id,
            "booking_lock.patient_id": claimed.booking_lock.patient_id,
            "booking_lock.locked_at": claimed.booking_lock.locked_at,
        },
        changes,
        also,
    )


async def claim_open(
    slot_id: PydanticObjectId | None,
    patient_id: PydanticObjectId,
    now: datetime,
    claim: dict[str, Any],
) -> dict[str, Any] | None:
    """Claim a slot open to the patient; the document as it was before, or None."""
    return await Slot.get_pymongo_collection().find_one_and_update(
        {"_id": slot_id, **open_for(patient_id, now)},
        {"$set": claim},
        return_document=ReturnDocument.BEFORE,
    )


async def book_open(
    slot_id: PydanticObjectId | None,
    patient_id: PydanticObjectId,
    now: datetime,
    claim_key: str | None,
) -> tuple[Slot, Slot] | None:
    """Book a slot open to the patient, its lock dropped, keeping the booking's key:
    (the slot before, after), as `claim_slot`."""
    return await claim_slot(
        {"_id": slot_id, **open_for(patient_id, now)},
        {"is_booked": True, "booking_lock": NO_LOCK, "claim_key": claim_key, **claim_stamp(now)},
    )


async def take_over_claim(
    slot_id: PydanticObjectId | None, claim_key: str | None, claimed_at: datetime, now: datetime
) -> Slot | None:
    """Re-stamp a booking's own unfinished claim, if unchanged since `claimed_at` was read."""
    return await update_slot(
        {
            "_id": slot_id,
            "is_booked": True,
            "is_removed": False,
            "claim_key": claim_key,
            "updated_at": claimed_at,
        },
        claim_stamp(now),
    )


async def give_back_claim(before: Slot, claimed_at: datetime, lock: dict[str, Any]) -> Slot | None:
    """Unbook a slot this request claimed at `claimed_at`: as it was `before` the claim,
    with `lock` as its lock again."""
    return await update_slot(
        {"_id": before.id, "is_booked": True, "updated_at": claimed_at},
        {
            "is_booked": False,
            "booking_lock": lock,
            "claim_key": before.claim_key,
            "booked_at": before.booked_at,
            "awaiting_check": before.awaiting_check,
            "updated_at": before.updated_at,
        },
    )


async def stamp_for_check(slot_id: PydanticObjectId, now: datetime) -> dict[str, Any] | None:
    """Mark a slot for the reconciler, stamped as changed; its `updated_at` before, or None."""
    return await Slot.get_pymongo_collection().find_one_and_update(
        {"_id": slot_id},
        {"$set": claim_stamp(now)},
        {"updated_at": 1},
        return_document=ReturnDocument.BEFORE,
    )


async def mark_future_for_check(slot_id: PydanticObjectId, now: datetime) -> None:
    """Mark a booked future slot for the reconciler, leaving `updated_at` alone."""
    await Slot.get_pymongo_collection().update_one(
        {"_id": slot_id, "is_booked": True, "starts_at": {"$gt": now}},
        {"$set": check_stamp(now)},
    )


async def free_future(slot_id: PydanticObjectId, now: datetime) -> Slot | None:
    """Unbook a booked slot that has not started."""
    return await update_slot(
        {"_id": slot_id, "is_booked": True, "starts_at": {"$gt": now}},
        {"is_booked": False, "updated_at": now},
    )


async def unclaim_move(new: dict[str, Any], old: dict[str, Any] | None, at: datetime) -> None:
    """Put a move's two slots back as they were before `at` (`new` and `old` as read before
    the claim), each only while it still carries that move's stamp: one bulk write."""
    restore = {"is_booked": False, "booking_lock": new.get("booking_lock", NO_LOCK)}
    undo = [
        UpdateOne(
            {"_id": new["_id"], "is_booked": True, "updated_at": at},
            {"$set": {**restore, "updated_at": new["updated_at"]}},
        )
    ]
    if old is not None:
        undo.append(
            UpdateOne(
                {"_id": old["_id"], "updated_at": at},
                {"$set": {"updated_at": old["updated_at"]}},
            )
        )
    await Slot.get_pymongo_collection().bulk_write(undo, ordered=False)

"""The appointments collection: the filters rules select appointments by, and the
conditional updates that change one (each conditional on what the rule read)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from beanie import PydanticObjectId
from beanie.odm.utils.dump import get_dict
from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from app.models import ACTIVE_STATUSES, Appointment, AppointmentStatus

PATH_NOT_VIABLE = 28  # MongoDB's code for an update path that runs through a non-document


def with_statuses(
    conditions: dict[str, Any], statuses: Iterable[AppointmentStatus] | None
) -> dict[str, Any]:
    """`conditions`, narrowed to `statuses` when any are named."""
    wanted = [s.value for s in statuses or ()]
    return conditions | {"status": {"$in": wanted}} if wanted else conditions


def listing(
    doctor_id: PydanticObjectId | None,
    patient_id: PydanticObjectId | None,
    statuses: list[AppointmentStatus] | None,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    """The filter of an appointment listing; each part only when asked for."""
    conditions: dict[str, Any] = {}
    if doctor_id is not None:
        conditions["doctor_id"] = doctor_id
    if patient_id is not None:
        conditions["patient_id"] = patient_id
    conditions = with_statuses(conditions, statuses)
    days: dict[str, str] = {}
    if start is not None:
        days["$gte"] = start.isoformat()
    if end is not None:
        days["$lte"] = end.isoformat()
    if days:
        conditions["appointment_date"] = days
    return conditions


async def find(conditions: dict[str, Any]) -> list[Appointment]:
    return await Appointment.find(conditions).to_list()


async def by_idempotency_key(stored_key: str) -> Appointment | None:
    return await Appointment.find_one({"idempotency_key": stored_key})


async def overlapping(
    patient_id: PydanticObjectId,
    starts_at: datetime,
    ends_at: datetime,
    moving: PydanticObjectId | None = None,
) -> dict[str, Any] | None:
    """One of the patient's active appointments overlapping the interval, as {_id, slot_id};
    `moving`, an appointment being rescheduled, does not count."""
    conditions: dict[str, object] = {
        "patient_id": patient_id,
        "status": {"$in": ACTIVE_STATUSES},
        "starts_at": {"$lt": ends_at},
        "ends_at": {"$gt": starts_at},
    }
    if moving is not None:
        conditions["_id"] = {"$ne": moving}
    return await Appointment.get_pymongo_collection().find_one(conditions, {"_id": 1, "slot_id": 1})


async def update_if(
    conditions: dict[str, Any],
    changes: dict[str, Any],
    *,
    notified: bool = False,
    owing: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The appointment after `changes`, or None when `conditions` no longer held.
    `notified`: a change its patient is told of, which counts up the appointment's
    `sequence` (the calendar's revision number) in the same write. `owing`: the update
    operators that record the notifications the change owes (their own, not `$set`)."""
    update: dict[str, Any] = {"$set": changes, **(owing or {})}
    if notified:
        update["$inc"] = {"sequence": 1}
    collection = Appointment.get_pymongo_collection()
    try:
        return await collection.find_one_and_update(
            conditions, update, return_document=ReturnDocument.AFTER
        )
    except OperationFailure as exc:
        if exc.code != PATH_NOT_VIABLE or not owing:
            raise
    # The record's parent field is stored as null (written by an import or a tool, not by
    # this app), and no store can create `parent.at` inside a null: unset it, write again.
    parents = {path.split(".", 1)[0] for paths in owing.values() for path in paths}
    await collection.update_one(
        {"_id": conditions["_id"], "$or": [{p: {"$type": "null"}} for p in sorted(parents)]},
        {"$unset": dict.fromkeys(parents, "")},
    )
    return await collection.find_one_and_update(
        conditions, update, return_document=ReturnDocument.AFTER
    )


async def set_status(
    appointment: Appointment, changes: dict[str, Any], owing: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Conditional on the status read: a concurrent change makes this one match nothing."""
    return await update_if(
        {"_id": appointment.id, "status": appointment.status.value},
        changes,
        notified=True,
        owing=owing,
    )


async def mark_checked_in(
    appointment_id: PydanticObjectId | None,
    open_statuses: Iterable[AppointmentStatus],
    now: datetime,
) -> dict[str, Any] | None:
    """Check in an appointment still open and not checked in."""
    return await update_if(
        with_statuses({"_id": appointment_id, "checked_in_at": None}, open_statuses),
        {"checked_in_at": now, "updated_at": now},
    )


async def move(
    appointment: Appointment, placed: dict[str, Any], owing: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Conditional on the slot and status read: a concurrent change makes this match nothing."""
    return await update_if(
        {
            "_id": appointment.id,
            "slot_id": appointment.slot_id,
            "status": appointment.status.value,
        },
        placed,
        notified=True,
        owing=owing,
    )


async def insert_with(appointment: Appointment, stored_only: dict[str, Any]) -> None:
    """Beanie's insert of `appointment`, in one command with `stored_only`: fields its model
    keeps out of every dump (a booking's owed audit entries)."""
    settings = Appointment.get_settings()
    document = get_dict(appointment, to_db=True, keep_nulls=settings.keep_nulls)
    await Appointment.get_pymongo_collection().insert_one(document | stored_only)

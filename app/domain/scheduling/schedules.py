"""Setting a doctor's schedule and date overrides: who may, what is checked, what follows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.domain import validation
from app.domain.audit.recorder import Change, record
from app.domain.auth.actor import Actor, require_actor
from app.domain.catalog.doctors import get_doctor
from app.domain.read_model import announce_stale
from app.domain.scheduling.regeneration import (
    ScheduleChangeResult,
    doctor_lease,
    doctor_today,
    regenerate,
)
from app.domain.scheduling.schedule_rules import (
    OVERRIDE_DAYS_AHEAD,
    ScheduleFields,
    checked_override,
    checked_schedule,
)
from app.domain.slots.management import require_slot_manager
from app.models import DateOverride, Doctor, TimeRange
from app.models.schedule import override_key


def regenerated(doctor_id: PydanticObjectId, result: ScheduleChangeResult | None) -> list[Change]:
    """A bulk slot change is one summary entry (counts), not one entry per slot."""
    if result is None or (not result.slots_added and not result.slots_removed):
        return []
    counts = {
        "slots_added": result.slots_added,
        "slots_removed": result.slots_removed,
        "horizon_end": result.horizon_end,
    }
    return [Change("slots.regenerated", "doctor", doctor_id, after=counts)]


async def _managed_doctor(actor: Actor | None, doctor_id: str) -> Doctor:
    """ADMIN or that DOCTOR (FORBIDDEN otherwise), then the doctor (NOT_FOUND if unknown)."""
    require_slot_manager(actor, validation.object_id(doctor_id, "doctorId"))
    return await get_doctor(doctor_id, "doctorId")


async def set_schedule(
    actor: Actor | None, doctor_id: str, fields: ScheduleFields, first_days: int | None = None
) -> ScheduleChangeResult:
    """Replace the doctor's schedule whole and regenerate its future generated slots
    (only `first_days` of them now, when given: see regenerate)."""
    doctor = await _managed_doctor(actor, doctor_id)
    now = utcnow()
    schedule = checked_schedule(fields, doctor_today(doctor, now), now)
    assert doctor.id is not None
    made: list[Change] = []
    result: ScheduleChangeResult | None = None
    try:
        async with doctor_lease(doctor.id):
            stored = await Doctor.get_pymongo_collection().find_one_and_update(
                {"_id": doctor.id},
                {"$set": {"schedule": schedule.model_dump(), "updated_at": now}},
                return_document=ReturnDocument.BEFORE,
            )
            assert stored is not None
            made.append(
                Change(
                    "schedule.set",
                    "doctor",
                    doctor.id,
                    before={"schedule": stored.get("schedule")},
                    after={"schedule": schedule},
                )
            )
            stored |= {"schedule": schedule.model_dump(), "updated_at": now}
            result = await regenerate(Doctor.model_validate(stored), first_days)
    finally:
        # Recorded even when regenerating fails: the schedule itself has changed by then.
        await record(require_actor(actor), now, *made, *regenerated(doctor.id, result))
        if made:
            await announce_stale(catalog=True)  # the doctor document holds the schedule
    assert result is not None
    return result


async def set_date_override(
    actor: Actor | None,
    doctor_id: str,
    day: date,
    ranges: Sequence[TimeRange],
    reason: str | None,
) -> ScheduleChangeResult:
    """Hours for one date that replace the weekly ones; no ranges makes it a day off."""
    doctor = await _managed_doctor(actor, doctor_id)
    now = utcnow()
    checked = checked_override(day, ranges, reason, doctor_today(doctor, now))
    assert doctor.id is not None
    key = override_key(doctor.id, checked.day.isoformat())
    made: list[Change] = []
    result: ScheduleChangeResult | None = None
    try:
        async with doctor_lease(doctor.id):
            was = await DateOverride.get_pymongo_collection().find_one_and_update(
                {"override_key": key},
                {
                    "$set": {
                        "doctor_id": doctor.id,
                        "date": checked.day.isoformat(),
                        "ranges": [r.model_dump() for r in checked.ranges],
                        "reason": checked.reason,
                        "updated_at": now,
                    },
                    "$setOnInsert": {"override_key": key, "created_at": now},
                },
                upsert=True,
                projection={"ranges": 1, "reason": 1},
                return_document=ReturnDocument.BEFORE,
            )
            hours = {"ranges": checked.ranges, "reason": checked.reason}
            made.append(
                Change(
                    "schedule.override_set",
                    "doctor",
                    doctor.id,
                    before={"date": checked.day, **_hours(was)},
                    after={"date": checked.day, **hours},
                )
            )
            result = await regenerate(doctor)
    finally:
        await record(require_actor(actor), now, *made, *regenerated(doctor.id, result))
    assert result is not None
    return result


async def clear_date_override(
    actor: Actor | None, doctor_id: str, day: date
) -> ScheduleChangeResult:
    """The date follows the weekly hours again; clearing a date without override changes nothing."""
    doctor = await _managed_doctor(actor, doctor_id)
    assert doctor.id is not None
    made: list[Change] = []
    result: ScheduleChangeResult | None = None
    try:
        async with doctor_lease(doctor.id):
            was = await DateOverride.get_pymongo_collection().find_one_and_delete(
                {"override_key": override_key(doctor.id, day.isoformat())},
                projection={"ranges": 1, "reason": 1},
            )
            if was is not None:
                made.append(
                    Change(
                        "schedule.override_cleared",
                        "doctor",
                        doctor.id,
                        before={"date": day, **_hours(was)},
                        after={"date": day, "ranges": None, "reason": None},
                    )
                )
            result = await regenerate(doctor)
    finally:
        await record(require_actor(actor), utcnow(), *made, *regenerated(doctor.id, result))
    assert result is not None
    return result


def _hours(override: dict[str, Any] | None) -> dict[str, Any]:
    """A stored override's hours; none when the date had no override."""
    if override is None:
        return {"ranges": None, "reason": None}
    return {"ranges": override.get("ranges"), "reason": override.get("reason")}


async def date_overrides(doctor_id: PydanticObjectId, start: date, end: date) -> list[DateOverride]:
    """A doctor's overrides from `start` through `end`, by date."""
    validation.date_range(start, end, max_days=OVERRIDE_DAYS_AHEAD.days)
    found = await DateOverride.find(
        {"doctor_id": doctor_id, "date": {"$gte": start.isoformat(), "$lte": end.isoformat()}}
    ).to_list()
    return sorted(found, key=lambda o: o.date)


async def regenerate_for_new_timezone(actor: Actor, doctor: Doctor) -> ScheduleChangeResult | None:
    """A doctor that moved zone gets its future generated slots at the new wall-clock times."""
    if doctor.schedule is None or doctor.id is None:
        return None
    async with doctor_lease(doctor.id):
        result = await regenerate(doctor)
    await record(actor, utcnow(), *regenerated(doctor.id, result))
    return result

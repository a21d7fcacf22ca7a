"""Setting a doctor's schedule and date overrides: who may, what is checked, what follows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.domain import validation
from app.domain.all_or_nothing import Step, fields_step, run_all_or_nothing
from app.domain.audit.recorder import Change, record
from app.domain.auth.actor import Actor, require_actor
from app.domain.catalog.doctors import get_doctor
from app.domain.read_model import announce_stale
from app.domain.scheduling.regeneration import doctor_lease, doctor_today, plan_regeneration
from app.domain.scheduling.regeneration_steps import Regeneration, ScheduleChangeResult
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
    (only `first_days` of them now, when given: see plan_regeneration), all or nothing."""
    doctor = await _managed_doctor(actor, doctor_id)
    now = utcnow()
    schedule = checked_schedule(fields, doctor_today(doctor, now), now)
    assert doctor.id is not None
    async with doctor_lease(doctor.id):
        stored = await stored_doctor(doctor.id)
        after = Doctor.model_validate({**stored, "schedule": schedule.model_dump()})
        regeneration = Regeneration(await plan_regeneration(after, first_days))
        saved = {
            "schedule": schedule.model_dump(),
            "updated_at": now,
            **regeneration.plan.horizon_fields(),
        }
        await run_all_or_nothing(
            "schedule change",
            [*regeneration.steps(), doctor_step("schedule_saved", stored, saved)],
        )
    result = await regeneration.result(after)
    change = Change(
        "schedule.set",
        "doctor",
        doctor.id,
        before={"schedule": stored.get("schedule")},
        after={"schedule": schedule},
    )
    await record(require_actor(actor), now, change, *regenerated(doctor.id, result))
    await announce_stale(catalog=True)  # the doctor document holds the schedule
    await regeneration.announce()
    return result


async def stored_doctor(doctor_id: PydanticObjectId) -> dict[str, Any]:
    """The doctor as stored, read again under its lease: what an undo puts back."""
    stored = await Doctor.get_pymongo_collection().find_one({"_id": doctor_id})
    if stored is None:
        raise NotFound("Doctor", field="doctorId")
    return stored


def doctor_step(name: str, stored: dict[str, Any], changes: dict[str, Any]) -> Step:
    return fields_step(name, Doctor.get_pymongo_collection(), stored["_id"], stored, changes)


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
    overrides = DateOverride.get_pymongo_collection()
    was: dict[str, Any] | None = None

    async def save() -> None:
        nonlocal was
        was = await overrides.find_one_and_update(
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
            return_document=ReturnDocument.BEFORE,
        )

    async def undo() -> None:
        if was is None:
            await overrides.delete_one({"override_key": key})
        else:
            await overrides.replace_one({"override_key": key}, was)

    async with doctor_lease(doctor.id):
        stored = await stored_doctor(doctor.id)
        plan = await plan_regeneration(
            Doctor.model_validate(stored), override=(checked.day, list(checked.ranges))
        )
        regeneration = Regeneration(plan)
        horizon = plan.horizon_fields()
        await run_all_or_nothing(
            "date override",
            [
                *regeneration.steps(),
                Step("override_saved", save, undo),
                doctor_step("horizon_saved", stored, horizon),
            ],
        )
    result = await regeneration.result(plan.doctor)
    hours = {"ranges": checked.ranges, "reason": checked.reason}
    change = Change(
        "schedule.override_set",
        "doctor",
        doctor.id,
        before={"date": checked.day, **_hours(was)},
        after={"date": checked.day, **hours},
    )
    await record(require_actor(actor), now, change, *regenerated(doctor.id, result))
    await regeneration.announce()
    return result


async def clear_date_override(
    actor: Actor | None, doctor_id: str, day: date
) -> ScheduleChangeResult:
    """The date follows the weekly hours again; clearing a date without override changes nothing."""
    doctor = await _managed_doctor(actor, doctor_id)
    assert doctor.id is not None
    key = override_key(doctor.id, day.isoformat())
    overrides = DateOverride.get_pymongo_collection()
    was: dict[str, Any] | None = None

    async def delete() -> None:
        nonlocal was
        was = await overrides.find_one_and_delete({"override_key": key})

    async def undo() -> None:
        if was is not None:
            await overrides.replace_one({"override_key": key}, was, upsert=True)

    async with doctor_lease(doctor.id):
        stored = await stored_doctor(doctor.id)
        plan = await plan_regeneration(Doctor.model_validate(stored), override=(day, None))
        regeneration = Regeneration(plan)
        horizon = plan.horizon_fields()
        await run_all_or_nothing(
            "date override",
            [
                *regeneration.steps(),
                Step("override_cleared", delete, undo),
                doctor_step("horizon_saved", stored, horizon),
            ],
        )
    result = await regeneration.result(plan.doctor)
    made: list[Change] = []
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
    await record(require_actor(actor), utcnow(), *made, *regenerated(doctor.id, result))
    await regeneration.announce()
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

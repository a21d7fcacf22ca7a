"""Keep every scheduled doctor's slots reaching SCHEDULE_HORIZON_DAYS ahead as days pass.

Every API process runs this once at start-up, then only the housekeeping lease's holder,
every HORIZON_CHECK_SECONDS: its one read scans the doctors (not the slots), so it runs
rarely. Only the days after a doctor's horizon_end are generated, insert only (after a
time zone move, the old zone's slots of those days are removed first); the slot_key
unique index refuses a slot another process already made, so there is one result however
many processes run it, and only the process whose insert succeeded announces a slot.
horizon_end moves forward with a conditional update.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.core.errors import Conflict
from app.domain.audit.recorder import Change, record
from app.domain.read_model import announce_stale
from app.domain.scheduling.generator import plan_slots
from app.domain.scheduling.regeneration import (
    SLOT_REACH,
    RegenerationPlan,
    doctor_lease,
    horizon_for,
    live_slots_between,
    next_midnight,
    overrides_from,
    sort_existing,
    window_end,
)
from app.domain.scheduling.regeneration_steps import Regeneration
from app.domain.scheduling.time_zone_move import last_day_fitting
from app.models import Doctor
from app.settings import get_settings
from app.store import outage

log = logging.getLogger(__name__)

HORIZON_CHECK_SECONDS = 300.0
ROLL_DAYS_PER_BATCH = 14
# The furthest any zone's date runs ahead of UTC's (UTC+14).
LATEST_ZONE_AHEAD = timedelta(hours=14)
_rolling: set[asyncio.Task[None]] = set()


async def doctors_behind(now: datetime) -> list[Doctor]:
    """One query: doctors with a schedule whose horizon may be short of today's target."""
    target = (now + LATEST_ZONE_AHEAD).date() + timedelta(days=get_settings().schedule_horizon_days)
    found = await Doctor.find(
        {
            "schedule": {"$ne": None},
            "$or": [
                {"horizon_end": None},
                {"horizon_end": {"$lt": target.isoformat()}},
                {"regenerating_from": {"$ne": None}},
            ],
        }
    ).to_list()
    return [d for d in found if _is_behind(d, now)]


def _is_behind(doctor: Doctor, now: datetime) -> bool:
    _, target = horizon_for(doctor, now)
    return (
        doctor.horizon_end is None
        or doctor.horizon_end < target.isoformat()
        or doctor.regenerating_from is not None
    )


async def roll_batch(doctor: Doctor, now: datetime) -> int:
    """Generate the next days after horizon_end, toward today's target; the slots it made.

    Usually that is one day. A doctor far behind (a long outage, a longer horizon setting)
    is caught up ROLL_DAYS_PER_BATCH days a batch, so no single write monopolizes the store;
    a time zone move's remaining days (`regenerating_from`) in batches of at most a move's
    SLOTS_AT_ONCE (app/domain/scheduling/time_zone_move.py). `doctor` is updated in place.
    """
    today, target = horizon_for(doctor, now)
    first_day = today
    if doctor.horizon_end is not None:
        first_day = max(today, date.fromisoformat(doctor.horizon_end) + timedelta(days=1))
    if doctor.regenerating_from is not None:
        first_day = min(first_day, target)  # the last batch also clears the mark
    if first_day > target:
        return 0
    last_day = min(target, first_day + timedelta(days=ROLL_DAYS_PER_BATCH - 1))
    if doctor.regenerating_from is not None:
        last_day = last_day_fitting(doctor, first_day, last_day)
    return await _roll_days(doctor, first_day, last_day, now)


async def _plan_days(
    doctor: Doctor, first_day: date, last_day: date, now: datetime, final: bool
) -> RegenerationPlan:
    """The days' slots; after a time zone move, also the old zone's slots that go (and, on
    the last pass, any the old zone left past the new horizon)."""
    assert doctor.id is not None and doctor.schedule is not None
    overrides = await overrides_from(doctor.id, first_day, last_day)
    planned = [
        p
        for p in plan_slots(doctor.schedule, overrides, doctor.timezone, first_day, last_day)
        if p.starts_at > now
    ]
    first_midnight = datetime.combine(first_day, datetime.min.time(), ZoneInfo(doctor.timezone))
    pending = doctor.regenerating_from
    existing = await live_slots_between(
        doctor.id,
        max(now, first_midnight - SLOT_REACH),
        window_end(doctor.timezone, last_day),
        with_later_generated=pending is not None and final,
    )
    keep, removable = (
        (set(), []) if pending is None else sort_existing(existing, planned, now, pending)
    )
    return RegenerationPlan(
        doctor, now, last_day, overrides, planned, existing, keep, removable, pending
    )


async def _roll_days(doctor: Doctor, first_day: date, last_day: date, now: datetime) -> int:
    """New slots that overlap none of the doctor's live slots (and, after a time zone move,
    the old zone's slots of those days removed first); then horizon_end moves, with a
    conditional update. Not all or nothing: a pass cut short is done again by the next."""
    assert doctor.id is not None
    _, target = horizon_for(doctor, now)
    final = last_day >= target
    regeneration = Regeneration(await _plan_days(doctor, first_day, last_day, now, final))
    for step in regeneration.steps():
        await step.do()
    fields: dict[str, Any] = {"horizon_end": last_day.isoformat()}
    if doctor.regenerating_from is not None:
        fields["regenerating_from"] = None if final else next_midnight(doctor.timezone, last_day)
    moved = await Doctor.get_pymongo_collection().update_one(
        {"_id": doctor.id, "horizon_end": doctor.horizon_end}, {"$set": fields}
    )
    inserted, removed = regeneration.inserted, regeneration.removed
    if inserted or removed or moved.modified_count:
        rolled = Change(
            "schedule.rolled_forward",
            "doctor",
            doctor.id,
            before={"horizon_end": doctor.horizon_end},
            after={
                "horizon_end": last_day,
                "slots_added": len(inserted),
                **({"slots_removed": len(removed)} if removed else {}),
            },
        )
        await record(None, now, rolled)
    await regeneration.announce()
    if "regenerating_from" in fields and moved.modified_count:
        # Read models hold the doctor, whose mark says which of its slots they may show.
        await announce_stale(catalog=True, doctor_id=doctor.id)
    if moved.modified_count:
        doctor.horizon_end = last_day.isoformat()
        doctor.regenerating_from = fields.get("regenerating_from")
    return len(inserted)


async def roll_horizons_forward() -> int:
    """One pass over the doctors that are behind; a doctor another process holds is skipped."""
    added = 0
    for candidate in await doctors_behind(utcnow()):
        assert candidate.id is not None
        added += await _roll_doctor(candidate.id, wait_seconds=0)
    return added


def roll_soon(doctor_id: PydanticObjectId) -> None:
    """Roll one doctor's horizon now, in this process's background (a time zone move's
    remaining days), rather than at the next housekeeping pass, up to
    HORIZON_CHECK_SECONDS away. A fresh context: its store commands take no request's age."""
    task = asyncio.get_running_loop().create_task(
        _roll_in_background(doctor_id), name=f"roll {doctor_id}", context=contextvars.Context()
    )
    _rolling.add(task)
    task.add_done_callback(_rolling.discard)


async def _roll_in_background(doctor_id: PydanticObjectId) -> None:
    try:
        await _roll_doctor(doctor_id)
    except Exception as exc:
        if not outage.noticed(exc):
            log.exception("rolling doctor %s forward failed; housekeeping will retry", doctor_id)


async def _roll_doctor(doctor_id: PydanticObjectId, wait_seconds: float = 5.0) -> int:
    """A batch at a time under the doctor's lease, let go between batches, so a change of
    the doctor meanwhile (a time zone move's roll runs for about 40 s) waits for one batch,
    not the whole roll. The slots it made; a doctor held elsewhere rolls next time."""
    added = 0
    # A batch covers a day at least; the next housekeeping pass finishes a roll cut short.
    for _ in range(get_settings().schedule_horizon_days + 2):
        try:
            async with doctor_lease(doctor_id, wait_seconds=wait_seconds):
                # Read again under the lease: a schedule change may have just moved it.
                doctor = await Doctor.get(doctor_id)
                now = utcnow()
                if doctor is None or doctor.schedule is None or not _is_behind(doctor, now):
                    return added
                added += await roll_batch(doctor, now)
                if not _is_behind(doctor, now):
                    return added
        except Conflict:
            log.info("doctor %s is being changed elsewhere; its horizon rolls next time", doctor_id)
            return added
    return added

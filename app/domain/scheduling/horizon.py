"""Keep every scheduled doctor's slots reaching SCHEDULE_HORIZON_DAYS ahead as days pass.

Every API process runs this once at start-up, then only the housekeeping lease's holder,
every HORIZON_CHECK_SECONDS: its one read scans the doctors (not the slots), so it runs
rarely. Only the days after a doctor's horizon_end are generated, insert only; the
slot_key unique index refuses a slot another process already made, so there is one result
however many processes run it, and only the process whose insert succeeded announces a
slot. horizon_end moves forward with a conditional update.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.clock import utcnow
from app.core.errors import Conflict
from app.domain.audit.recorder import Change, record
from app.domain.scheduling.generator import plan_slots
from app.domain.scheduling.regeneration import (
    SLOT_REACH,
    Occupied,
    added_events,
    doctor_lease,
    horizon_for,
    insert_slots,
    live_slots_between,
    new_slot_documents,
    overrides_from,
    window_end,
)
from app.events.publisher import publish
from app.models import Doctor
from app.settings import get_settings

log = logging.getLogger(__name__)

HORIZON_CHECK_SECONDS = 300.0
ROLL_DAYS_PER_BATCH = 14
# The furthest any zone's date runs ahead of UTC's (UTC+14).
LATEST_ZONE_AHEAD = timedelta(hours=14)


async def doctors_behind(now: datetime) -> list[Doctor]:
    """One query: doctors with a schedule whose horizon may be short of today's target."""
    target = (now + LATEST_ZONE_AHEAD).date() + timedelta(days=get_settings().schedule_horizon_days)
    found = await Doctor.find(
        {
            "schedule": {"$ne": None},
            "$or": [{"horizon_end": None}, {"horizon_end": {"$lt": target.isoformat()}}],
        }
    ).to_list()
    return [d for d in found if _is_behind(d, now)]


def _is_behind(doctor: Doctor, now: datetime) -> bool:
    _, target = horizon_for(doctor, now)
    return doctor.horizon_end is None or doctor.horizon_end < target.isoformat()


async def roll_doctor_forward(doctor: Doctor, now: datetime) -> int:
    """Generate the days after horizon_end through today's target; the slots this call made.

    Usually that is one day. A doctor far behind (a long outage, a longer horizon setting)
    is caught up ROLL_DAYS_PER_BATCH days at a time, so no single write monopolizes the store.
    """
    assert doctor.id is not None
    today, target = horizon_for(doctor, now)
    first_day = today
    if doctor.horizon_end is not None:
        first_day = max(today, date.fromisoformat(doctor.horizon_end) + timedelta(days=1))
    added = 0
    while first_day <= target:
        last_day = min(target, first_day + timedelta(days=ROLL_DAYS_PER_BATCH - 1))
        made, advanced = await _roll_days(doctor, first_day, last_day, now)
        added += made
        if not advanced:
            break
        doctor.horizon_end = last_day.isoformat()
        first_day = last_day + timedelta(days=1)
    return added


async def _roll_days(
    doctor: Doctor, first_day: date, last_day: date, now: datetime
) -> tuple[int, bool]:
    """Insert only: slots that overlap none of the doctor's live slots; then move horizon_end."""
    assert doctor.id is not None and doctor.schedule is not None
    overrides = await overrides_from(doctor.id, first_day, last_day)
    planned = [
        p
        for p in plan_slots(doctor.schedule, overrides, doctor.timezone, first_day, last_day)
        if p.starts_at > now
    ]
    first_midnight = datetime.combine(first_day, datetime.min.time(), ZoneInfo(doctor.timezone))
    existing = await live_slots_between(
        doctor.id, max(now, first_midnight - SLOT_REACH), window_end(doctor.timezone, last_day)
    )
    occupied = Occupied([(s["starts_at"], s["ends_at"]) for s in existing])
    inserted = await insert_slots(new_slot_documents(doctor, planned, set(), occupied, now))
    moved = await Doctor.get_pymongo_collection().update_one(
        {"_id": doctor.id, "horizon_end": doctor.horizon_end},
        {"$set": {"horizon_end": last_day.isoformat()}},
    )
    if inserted or moved.modified_count:
        rolled = Change(
            "schedule.rolled_forward",
            "doctor",
            doctor.id,
            before={"horizon_end": doctor.horizon_end},
            after={"horizon_end": last_day, "slots_added": len(inserted)},
        )
        await record(None, now, rolled)
    await publish(*added_events(inserted, now))
    return len(inserted), moved.modified_count == 1


async def roll_horizons_forward() -> int:
    """One pass over the doctors that are behind; a doctor another process holds is skipped."""
    now = utcnow()
    added = 0
    for candidate in await doctors_behind(now):
        assert candidate.id is not None
        try:
            async with doctor_lease(candidate.id, wait_seconds=0):
                # Read again under the lease: a schedule change may have just moved it.
                doctor = await Doctor.get(candidate.id)
                if doctor is None or doctor.schedule is None or not _is_behind(doctor, now):
                    continue
                added += await roll_doctor_forward(doctor, now)
        except Conflict:
            log.info(
                "doctor %s is being changed elsewhere; its horizon rolls next time", candidate.id
            )
    return added

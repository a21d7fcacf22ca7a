"""A time zone move regenerates a dense doctor's first days at once and the rest after.

Every future generated slot changes its instant with the zone. The embedded store removes
and inserts one in about 2.6 ms, so a doctor with 5-minute slots around the clock (17,000
in 60 days) waited 45 s for a move. The move now regenerates the days that fit
SLOTS_AT_ONCE, marks the doctor `regenerating_from` the next midnight (from then on its
generated slots are not bookable, app/domain/slots/pending_regeneration.py), and the
horizon roll regenerates the rest (app/domain/scheduling/horizon.py), started at once in
the process that made the move, in batches of the same size, so a change of the doctor
meanwhile waits for one batch. A doctor whose whole horizon fits is regenerated at once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.core.clock import utcnow
from app.domain.scheduling.generator import plan_slots
from app.domain.scheduling.regeneration import RegenerationPlan, horizon_for, plan_regeneration
from app.models import Doctor

# About 1.5 s of the embedded store's time (removing the old slots and inserting the new).
SLOTS_AT_ONCE = 600


def last_day_fitting(doctor: Doctor, first_day: date, last_day: date, at_least: int = 0) -> date:
    """The last day from `first_day` through `last_day` whose slots, with those of the days
    before, fit in SLOTS_AT_ONCE (`at_least` days after `first_day` in any case). Counted
    from the weekly hours: the overrides change little."""
    assert doctor.schedule is not None
    planned = 0
    day = first_day
    while day <= last_day:
        planned += len(plan_slots(doctor.schedule, {}, doctor.timezone, day, day))
        if planned > SLOTS_AT_ONCE:
            return max(first_day + timedelta(days=at_least), day - timedelta(days=1))
        day += timedelta(days=1)
    return last_day


def days_at_once(doctor: Doctor, now: datetime) -> int | None:
    """The days after today a move regenerates at once (at least tomorrow); None when the
    whole horizon fits."""
    today, horizon_end = horizon_for(doctor, now)
    last = last_day_fitting(doctor, today, horizon_end, at_least=1)
    return None if last >= horizon_end else (last - today).days


async def plan_time_zone_move(doctor: Doctor) -> RegenerationPlan:
    """`doctor` as it will be saved, in its new zone."""
    days = days_at_once(doctor, utcnow())
    if days is None:
        return await plan_regeneration(doctor)
    return await plan_regeneration(doctor, days, later=False)

"""Bring a doctor's generated slots in line with its schedule, touching only what changed.

Only future AVAILABLE slots made from a schedule may go; booked, locked, unavailable and
createSlot slots stay, and new slots never overlap them. Store round trips are a small
constant per doctor, however many days the horizon spans.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.domain.scheduling.generator import PlannedSlot, plan_slots
from app.domain.scheduling.new_slots import Identity, identity, identity_of_doc
from app.models import DateOverride, Doctor, Slot, SlotSource
from app.models.schedule import TimeRange
from app.settings import get_settings
from app.store.guards import guarded

# Long enough for the largest horizon on the slow embedded store; a crashed holder's lease
# still lapses on its own.
REGENERATION_LEASE_SECONDS = 120
# A slot lasts at most this long, so live slots overlapping a window start within it of it.
SLOT_REACH = timedelta(hours=8)

Interval = tuple[datetime, datetime]


@asynccontextmanager
async def doctor_lease(
    doctor_id: PydanticObjectId, wait_seconds: float = 5.0
) -> AsyncIterator[None]:
    """The same lease createSlot takes for its overlap check, held for a whole regeneration."""
    async with guarded(
        Doctor.get_pymongo_collection(),
        doctor_id,
        "doctor's slots",
        lease_seconds=REGENERATION_LEASE_SECONDS,
        wait_seconds=wait_seconds,
    ):
        yield


def doctor_today(doctor: Doctor, now: datetime) -> date:
    return now.astimezone(ZoneInfo(doctor.timezone)).date()


def horizon_for(doctor: Doctor, now: datetime, days: int | None = None) -> tuple[date, date]:
    """Today in the doctor's zone and the last date slots are generated for."""
    today = doctor_today(doctor, now)
    return today, today + timedelta(days=days or get_settings().schedule_horizon_days)


async def overrides_from(
    doctor_id: PydanticObjectId, first_day: date, last_day: date | None = None
) -> dict[date, list[TimeRange]]:
    """One query; overrides reach at most about two years ahead, so the open end is bounded."""
    dates: dict[str, str] = {"$gte": first_day.isoformat()}
    if last_day is not None:
        dates["$lte"] = last_day.isoformat()
    found = await DateOverride.find({"doctor_id": doctor_id, "date": dates}).to_list()
    return {date.fromisoformat(o.date): o.ranges for o in found}


def next_midnight(zone: str, day: date) -> datetime:
    """The start of the day after `day` in `zone`: no slot of `day` starts at or after it."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))


def window_end(zone: str, last_day: date) -> datetime:
    """An instant after every slot that can start on or before `last_day`, with room to spare."""
    return next_midnight(zone, last_day) + SLOT_REACH


async def live_slots_between(
    doctor_id: PydanticObjectId,
    after: datetime,
    before: datetime,
    with_later_generated: bool = False,
) -> list[dict[str, Any]]:
    """One query: the doctor's live slots running after `after` that start before `before`.

    `with_later_generated` adds generated slots past `before` (left by a longer horizon
    setting), so that a schedule change does not leave the old schedule's slots bookable.
    """
    starts: dict[str, Any] = {"starts_at": {"$lt": before}}
    window: dict[str, Any] = (
        {"$or": [starts, {"source": SlotSource.SCHEDULE.value}]} if with_later_generated else starts
    )
    return (
        await Slot.get_pymongo_collection()
        .find({"doctor_id": doctor_id, "is_removed": False, "ends_at": {"$gt": after}, **window})
        .to_list()
    )


def still_available(now: datetime) -> dict[str, Any]:
    """A generated slot nobody holds: the condition every removal restates in its filter."""
    return {
        "is_removed": False,
        "is_booked": False,
        "is_available": True,
        "source": SlotSource.SCHEDULE.value,
        "starts_at": {"$gt": now},
        "$or": [
            {"booking_lock.is_active": {"$ne": True}},
            {"booking_lock.expires_at": {"$lte": now}},
        ],
    }


def _removable(slot: dict[str, Any], now: datetime) -> bool:
    lock = slot.get("booking_lock") or {}
    locked = bool(lock.get("is_active") and lock.get("expires_at") and lock["expires_at"] > now)
    return (
        slot.get("source") == SlotSource.SCHEDULE.value
        and slot.get("is_available", True)
        and not slot.get("is_booked")
        and not locked
        and slot["starts_at"] > now
    )


def sort_existing(
    existing: Sequence[dict[str, Any]],
    planned: Sequence[PlannedSlot],
    now: datetime,
    since: datetime | None = None,
) -> tuple[set[Identity], list[dict[str, Any]]]:
    """Which live slots the plan keeps as they are (one per wanted slot) and which may go;
    with `since`, only slots starting from then on are looked at."""
    wanted = {identity(p) for p in planned}
    keep: set[Identity] = set()
    removable: list[dict[str, Any]] = []
    for slot in existing:
        if _removable(slot, now) and (since is None or slot["starts_at"] >= since):
            if identity_of_doc(slot) in wanted and identity_of_doc(slot) not in keep:
                keep.add(identity_of_doc(slot))
            else:
                removable.append(slot)
    return keep, removable


@dataclass
class RegenerationPlan:
    """What a regeneration will write, read before anything is: the doctor as it will be,
    the slots it wants, the live slots it found and which of them may go."""

    doctor: Doctor
    now: datetime
    last_day: date
    overrides: dict[date, list[TimeRange]]
    planned: list[PlannedSlot]
    existing: list[dict[str, Any]]
    keep: set[Identity]
    removable: list[dict[str, Any]]
    # Set when generated slots past the window were left to the horizon roll.
    regenerating_from: datetime | None = None

    def horizon_fields(self) -> dict[str, Any]:
        """What the doctor document says of its slots once the plan is written."""
        return {
            "horizon_end": self.last_day.isoformat(),
            "regenerating_from": self.regenerating_from,
        }


async def plan_regeneration(
    doctor: Doctor,
    first_days: int | None = None,
    override: tuple[date, list[TimeRange] | None] | None = None,
    *,
    later: bool = True,
) -> RegenerationPlan:
    """Two reads. `doctor` is as it will be saved; `override` is a date override about to be
    set (ranges) or cleared (None), applied here before it is written. Without `later`, the
    generated slots past the window are left to the horizon roll, and the doctor's
    `regenerating_from` keeps them from being booked meanwhile (a time zone move)."""
    now = utcnow()
    today, last_day = horizon_for(doctor, now, first_days)
    assert doctor.id is not None
    # From yesterday: an appointment running now may have begun on the previous local date.
    overrides = await overrides_from(doctor.id, today - timedelta(days=1))
    if override is not None:
        day, ranges = override
        if ranges is None:
            overrides.pop(day, None)
        else:
            overrides[day] = ranges
    planned = (
        [
            p
            for p in plan_slots(doctor.schedule, overrides, doctor.timezone, today, last_day)
            if p.starts_at > now
        ]
        if doctor.schedule is not None
        else []
    )
    existing = await live_slots_between(
        doctor.id, now, window_end(doctor.timezone, last_day), with_later_generated=later
    )
    keep, removable = sort_existing(existing, planned, now)
    pending = None if later else next_midnight(doctor.timezone, last_day)
    return RegenerationPlan(
        doctor, now, last_day, overrides, planned, existing, keep, removable, pending
    )

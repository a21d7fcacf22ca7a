"""Bring a doctor's generated slots in line with its schedule, touching only what changed.

Only future AVAILABLE slots made from a schedule may go; booked, locked, unavailable and
createSlot slots stay, and new slots never overlap them. Store round trips are a small
constant per doctor, however many days the horizon spans.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId
from pymongo.errors import BulkWriteError

from app.core.clock import utcnow
from app.domain.scheduling.generator import PlannedSlot, plan_slots
from app.events.messages import SlotChanged, SlotEventKind
from app.models import DateOverride, Doctor, Slot, SlotSource
from app.models.schedule import TimeRange
from app.models.slot import slot_key
from app.settings import get_settings
from app.store.guards import guarded

# Long enough for the largest horizon on the slow embedded store; a crashed holder's lease
# still lapses on its own.
REGENERATION_LEASE_SECONDS = 120
# A slot lasts at most this long, so live slots overlapping a window start within it of it.
SLOT_REACH = timedelta(hours=8)

Interval = tuple[datetime, datetime]
Identity = tuple[datetime, datetime, str, str, str]


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


def window_end(zone: str, last_day: date) -> datetime:
    """An instant after every slot that can start on or before `last_day`, with room to spare."""
    midnight = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
    return midnight + SLOT_REACH


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


def _identity_of_doc(slot: dict[str, Any]) -> Identity:
    return (slot["starts_at"], slot["ends_at"], slot["date"], slot["start_time"], slot["end_time"])


def _identity(planned: PlannedSlot) -> Identity:
    return (
        planned.starts_at,
        planned.ends_at,
        planned.date.isoformat(),
        planned.start_time,
        planned.end_time,
    )


class Occupied:
    """Real-time spans already taken, for the overlap test of each new slot."""

    def __init__(self, spans: Sequence[Interval]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.longest = max((e - s for s, e in self.spans), default=timedelta(0))

    def overlaps(self, start: datetime, end: datetime) -> bool:
        i = bisect.bisect_left(self.starts, end)
        j = bisect.bisect_left(self.starts, start - self.longest)
        return any(self.spans[k][1] > start for k in range(j, i))


def slot_document(doctor: Doctor, planned: PlannedSlot, now: datetime) -> dict[str, Any]:
    return Slot(
        doctor_id=doctor.id,
        starts_at=planned.starts_at,
        ends_at=planned.ends_at,
        date=planned.date.isoformat(),
        start_time=planned.start_time,
        end_time=planned.end_time,
        duration_minutes=int((planned.ends_at - planned.starts_at).total_seconds() // 60),
        source=SlotSource.SCHEDULE,
        created_at=now,
        updated_at=now,
    ).stored()


async def insert_slots(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One unordered insert_many; a slot another writer made first (duplicate key) is skipped."""
    if not documents:
        return []
    try:
        await Slot.get_pymongo_collection().insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        failed = {error["index"] for error in exc.details.get("writeErrors", [])}
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise
        return [doc for i, doc in enumerate(documents) if i not in failed]
    return documents


def _like(template: dict[str, Any], doctor: Doctor, planned: PlannedSlot) -> dict[str, Any]:
    """`template` with another slot's times: the model's shape without validating it again."""
    assert doctor.id is not None
    return {
        **template,
        "booking_lock": dict(template["booking_lock"]),
        "starts_at": planned.starts_at,
        "ends_at": planned.ends_at,
        "date": planned.date.isoformat(),
        "start_time": planned.start_time,
        "end_time": planned.end_time,
        "duration_minutes": int((planned.ends_at - planned.starts_at).total_seconds() // 60),
        "slot_key": slot_key(doctor.id, planned.starts_at),
    }


def new_slot_documents(
    doctor: Doctor,
    planned: Sequence[PlannedSlot],
    keep: set[Identity],
    occupied: Occupied,
    now: datetime,
) -> list[dict[str, Any]]:
    """One document built through the model; the rest copy it (validating each costs as
    much API CPU as the store spends inserting it)."""
    wanted = [
        p
        for p in planned
        if _identity(p) not in keep and not occupied.overlaps(p.starts_at, p.ends_at)
    ]
    if not wanted:
        return []
    template = slot_document(doctor, wanted[0], now)
    return [template, *(_like(template, doctor, p) for p in wanted[1:])]


def added_events(documents: Sequence[dict[str, Any]], now: datetime) -> list[SlotChanged]:
    return [
        SlotChanged(kind=SlotEventKind.ADDED, slot=Slot.model_validate(doc), at=now)
        for doc in documents
    ]


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


async def plan_regeneration(
    doctor: Doctor,
    first_days: int | None = None,
    override: tuple[date, list[TimeRange] | None] | None = None,
) -> RegenerationPlan:
    """Two reads. `doctor` is as it will be saved; `override` is a date override about to be
    set (ranges) or cleared (None), applied here before it is written."""
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
        doctor.id, now, window_end(doctor.timezone, last_day), with_later_generated=True
    )
    wanted = {_identity(p) for p in planned}
    keep: set[Identity] = set()
    removable: list[dict[str, Any]] = []
    for slot in existing:
        if _removable(slot, now):
            if _identity_of_doc(slot) in wanted and _identity_of_doc(slot) not in keep:
                keep.add(_identity_of_doc(slot))
            else:
                removable.append(slot)
    return RegenerationPlan(doctor, now, last_day, overrides, planned, existing, keep, removable)

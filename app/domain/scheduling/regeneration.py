"""Bring a doctor's generated slots in line with its schedule, touching only what changed.

Only future AVAILABLE slots made from a schedule may go; booked, locked, unavailable and
createSlot slots stay, and new slots never overlap them. Store round trips are a small
constant per doctor, however many days the horizon spans.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId
from pymongo.errors import BulkWriteError

from app.core.clock import utcnow
from app.domain.scheduling.generator import PlannedSlot, plan_slots, working_intervals
from app.domain.slots.state import NO_LOCK
from app.events.messages import SlotChanged, SlotEventKind
from app.events.publisher import publish
from app.models import Appointment, AppointmentStatus, DateOverride, Doctor, Slot, SlotSource
from app.models.schedule import TimeRange
from app.models.slot import slot_key
from app.settings import get_settings
from app.store.guards import guarded

# Long enough for the largest horizon on the slow embedded store; a crashed holder's lease
# still lapses on its own.
REGENERATION_LEASE_SECONDS = 120
CONFLICT_STATUSES = [
    AppointmentStatus.SCHEDULED.value,
    AppointmentStatus.CONFIRMED.value,
    AppointmentStatus.IN_PROGRESS.value,
]
# A slot lasts at most this long, so live slots overlapping a window start within it of it.
SLOT_REACH = timedelta(hours=8)

Interval = tuple[datetime, datetime]
Identity = tuple[datetime, datetime, str, str, str]


@dataclass(frozen=True)
class ScheduleChangeResult:
    slots_added: int
    slots_removed: int
    conflicts: list[Appointment] = field(default_factory=list)
    horizon_end: date | None = None


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
        specialty_id=doctor.specialty_id,
        starts_at=planned.starts_at,
        ends_at=planned.ends_at,
        date=planned.date.isoformat(),
        start_time=planned.start_time,
        end_time=planned.end_time,
        duration_minutes=int((planned.ends_at - planned.starts_at).total_seconds() // 60),
        source=SlotSource.SCHEDULE,
        doctor_is_active=doctor.is_active,
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


async def _remove(doctor_id: Any, ids: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Remove the doctor's slots `ids` still AVAILABLE; the ones locked or booked meanwhile stay.

    The doctor's id comes first in both filters: the embedded store serves an `_id: {$in}`
    by scanning the whole collection, an equality on `doctor_id` through `doctor_slots`."""
    if not ids:
        return []
    collection = Slot.get_pymongo_collection()
    result = await collection.update_many(
        {"doctor_id": doctor_id, "_id": {"$in": ids}, **still_available(now)},
        {
            "$set": {
                "is_removed": True,
                "is_available": False,
                "booking_lock": NO_LOCK,
                "updated_at": now,
            }
        },
    )
    if result.modified_count == 0:
        return []
    # Under the doctor's lease nothing else removes these slots: this stamp is ours.
    return await collection.find(
        {"doctor_id": doctor_id, "_id": {"$in": ids}, "is_removed": True, "updated_at": now}
    ).to_list()


async def conflicting_appointments(
    doctor: Doctor,
    overrides: Mapping[date, Sequence[TimeRange]],
    now: datetime,
) -> list[Appointment]:
    """Active appointments still to come or running that fall outside the new working hours.

    A doctor without a schedule works by hand-made slots only: it has no hours to fall outside.
    """
    if doctor.schedule is None:
        return []
    found = await Appointment.find(
        {"doctor_id": doctor.id, "status": {"$in": CONFLICT_STATUSES}, "ends_at": {"$gt": now}}
    ).to_list()
    if not found:
        return []
    tz = ZoneInfo(doctor.timezone)
    first = min(a.starts_at for a in found).astimezone(tz).date() - timedelta(days=1)
    last = max(a.ends_at for a in found).astimezone(tz).date() + timedelta(days=1)
    spans = working_intervals(doctor.schedule, overrides, doctor.timezone, first, last)
    starts = [s for s, _ in spans]

    def inside(appointment: Appointment) -> bool:
        i = bisect.bisect_right(starts, appointment.starts_at) - 1
        return i >= 0 and spans[i][1] >= appointment.ends_at

    return sorted((a for a in found if not inside(a)), key=lambda a: a.starts_at)


async def regenerate(doctor: Doctor, first_days: int | None = None) -> ScheduleChangeResult:
    """Regenerate from today through the horizon; call it holding `doctor_lease`.

    `first_days` generates only that many days now; the horizon roll-forward (housekeeping)
    makes the rest in the background, so a first start does not wait for 60 days of slots.
    """
    now = utcnow()
    today, last_day = horizon_for(doctor, now, first_days)
    assert doctor.id is not None
    # From yesterday: an appointment running now may have begun on the previous local date.
    overrides = await overrides_from(doctor.id, today - timedelta(days=1))
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
    keep_untouched: set[Identity] = set()
    to_remove: list[dict[str, Any]] = []
    for slot in existing:
        if _removable(slot, now):
            if _identity_of_doc(slot) in wanted and _identity_of_doc(slot) not in keep_untouched:
                keep_untouched.add(_identity_of_doc(slot))
            else:
                to_remove.append(slot)
    removed = await _remove(doctor.id, [s["_id"] for s in to_remove], now)
    removed_ids = {s["_id"] for s in removed}
    occupied = Occupied(
        [(s["starts_at"], s["ends_at"]) for s in existing if s["_id"] not in removed_ids]
    )
    inserted = await insert_slots(
        new_slot_documents(doctor, planned, keep_untouched, occupied, now)
    )
    await Doctor.get_pymongo_collection().update_one(
        {"_id": doctor.id}, {"$set": {"horizon_end": last_day.isoformat()}}
    )
    doctor.horizon_end = last_day.isoformat()
    conflicts = await conflicting_appointments(doctor, overrides, now)
    await publish(
        *(
            SlotChanged(kind=SlotEventKind.REMOVED, slot=Slot.model_validate(d), at=now)
            for d in removed
        ),
        *added_events(inserted, now),
    )
    return ScheduleChangeResult(
        slots_added=len(inserted),
        slots_removed=len(removed),
        conflicts=conflicts,
        horizon_end=last_day,
    )

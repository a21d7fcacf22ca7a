"""What a patient could book now: open slots inside the doctor's booking window.

The store selects open slots (app/domain/slots/state.py open_for); the window comes from
the doctor's policy (app/domain/booking/policy.py) and is applied here, with the doctor
document the caller already holds, so no read path pays an extra query for it. When the
read model may answer (app/domain/read_model), the same rules are applied in memory to the
slots it holds, on every request.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from app.core import answers
from app.core.clock import utcnow
from app.core.errors import BadUserInput, NotFound
from app.domain import validation
from app.domain.booking.policy import (
    BookingWindow,
    booking_window,
    max_days_ahead,
    min_notice_minutes,
)
from app.domain.catalog.doctors import list_doctors
from app.domain.read_model import ReadModel, serving_model
from app.domain.slots.management import bookable_slots
from app.domain.slots.ordering import by_start
from app.domain.slots.pending_regeneration import awaits_regeneration, slot_awaits_regeneration
from app.domain.slots.state import is_open
from app.models import Doctor, Slot
from app.store.chunks import gather_in
from app.store.queries.slots import open_for

MAX_AVAILABILITY_DAYS = 62
# nextAvailableSlot looks this far ahead first, then twice as far each time: a few queries
# even when nothing is bookable, and never more than twice the slots before the answer.
FIRST_LOOK_AHEAD = timedelta(days=7)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class BookableDay:
    date: date
    bookable: int


def in_window(doctor: Doctor, slots: Iterable[Slot], now: datetime) -> list[Slot]:
    """The slots whose start the doctor's booking window allows now: none while the doctor
    takes no bookings (its own flag; its slots are not rewritten when it changes), nor
    those a time zone move has not regenerated yet."""
    if not doctor.is_active:
        return []
    window = booking_window(doctor, now)
    return [
        slot
        for slot in slots
        if window.contains(slot.starts_at) and not slot_awaits_regeneration(doctor, slot)
    ]


def _bookable_filter(window: BookingWindow, now: datetime) -> dict[str, Any]:
    query = open_for(None, now)
    query["starts_at"] = {"$gt": now, "$gte": window.earliest, "$lte": window.latest}
    return query


def open_now(slots: Iterable[Slot], now: datetime) -> list[Slot]:
    """The read model's slots a patient could claim now, by start (as the store path gives)."""
    return by_start(slot for slot in slots if is_open(slot, now))


def next_change(slots: Iterable[Slot], doctor: Doctor, now: datetime) -> datetime | None:
    """The first instant from `now` at which the clock alone could change which of these slots
    a patient may book: a start, a booking-window edge, a lock's expiry. Nothing else changes
    without an event, so an answer made of them holds until then (app/web/answer_cache.py)."""
    notice = timedelta(minutes=min_notice_minutes(doctor))
    ahead = timedelta(days=max_days_ahead(doctor))
    instants = [
        instant
        for slot in slots
        for instant in (
            slot.starts_at,
            slot.starts_at - notice,
            slot.starts_at - ahead,
            slot.booking_lock.expires_at,
        )
        if instant is not None and instant >= now
    ]
    return min(instants, default=None)


async def bookable_in_memory(
    model: ReadModel, keys: Sequence[tuple[PydanticObjectId, date]], now: datetime
) -> list[list[Slot]]:
    """Each (doctor, date)'s open slots from the read model, before the booking window."""
    held, doctors = await asyncio.gather(model.live_slots(keys), model.all_doctors())
    start = answers.since(now)
    for key in keys:
        doctor = doctors.get(key[0])
        change = start if doctor is None else next_change(held[key], doctor, start)
        if change is not None:
            answers.note_valid_until(change)
    return [open_now(held[key], now) for key in keys]


async def doctor_bookable_slots(
    doctor_id: str, day: date, now: datetime | None = None
) -> list[Slot]:
    """One doctor's bookable slots on a date; the doctor is read alongside, for its window."""
    doctor_oid = validation.object_id(doctor_id, "doctorId")
    at = now or utcnow()
    model = serving_model()
    if model is not None:
        (doctor,), (found,) = await asyncio.gather(
            model.doctors_by_id([doctor_oid]), bookable_in_memory(model, [(doctor_oid, day)], at)
        )
    else:
        found, doctor = await asyncio.gather(
            bookable_slots(day, [doctor_oid]), Doctor.get(doctor_oid)
        )
    if doctor is None:
        raise NotFound("Doctor", field="doctorId")
    return in_window(doctor, found, at)


async def doctors_bookable_on(
    day: date,
    specialty_id: str | None,
    include_inactive: bool,
    now: datetime | None = None,
) -> list[tuple[Doctor, list[Slot]]]:
    """Doctors (by name) with a slot a patient could book on `day`, each with those slots."""
    model = serving_model()
    if model is not None:
        return await _doctors_bookable_in_memory(
            model, day, specialty_id, include_inactive, now or utcnow()
        )
    if specialty_id is None:
        open_slots = await bookable_slots(day)
        doctors = await list_doctors(None, open_slots, include_inactive)
    else:
        # The specialty's doctors first, then their slots by doctor: the slots' doctor index
        # serves that, so slots need no specialty index (each one costs every slot insert).
        doctors = await list_doctors(specialty_id, None, include_inactive)
        ids = [doctor.id for doctor in doctors if doctor.id is not None]
        open_slots = await bookable_slots(day, doctor_ids=ids) if ids else []
    by_doctor: dict[PydanticObjectId, list[Slot]] = defaultdict(list)
    for slot in open_slots:
        by_doctor[slot.doctor_id].append(slot)
    at = now or utcnow()
    found = [(doctor, in_window(doctor, by_doctor[doctor.id], at)) for doctor in doctors]  # type: ignore[index]
    return [(doctor, slots) for doctor, slots in found if slots]


async def _doctors_bookable_in_memory(
    model: ReadModel, day: date, specialty_id: str | None, include_inactive: bool, now: datetime
) -> list[tuple[Doctor, list[Slot]]]:
    specialty_oid = validation.object_id(specialty_id, "specialtyId") if specialty_id else None
    doctors = [
        doctor
        for doctor in (await model.all_doctors()).values()
        if (specialty_oid is None or doctor.specialty_id == specialty_oid)
        and (include_inactive or doctor.is_active)
    ]
    keys = [(doctor.id, day) for doctor in doctors]
    found = await bookable_in_memory(model, keys, now)  # type: ignore[arg-type]
    listed = [
        (doctor, in_window(doctor, slots, now))
        for doctor, slots in zip(doctors, found, strict=True)
    ]
    return sorted(
        ((doctor, slots) for doctor, slots in listed if slots),
        key=lambda pair: (pair[0].name, str(pair[0].id)),
    )


async def availability(doctor: Doctor, start: date, end: date, now: datetime) -> list[BookableDay]:
    """How many slots a patient could book now on each date of the range (zeros included)."""
    if end < start:
        raise BadUserInput("to must not be before from", field="to")
    days = (end - start).days + 1
    if days > MAX_AVAILABILITY_DAYS:
        raise BadUserInput(f"the range may cover at most {MAX_AVAILABILITY_DAYS} days", field="to")
    dates = [start + timedelta(days=offset) for offset in range(days)]
    if not doctor.is_active:
        return [BookableDay(day, 0) for day in dates]
    query = {
        "doctor_id": doctor.id,
        "date": {"$gte": start.isoformat(), "$lte": end.isoformat()},
        **_bookable_filter(booking_window(doctor, now), now),
    }
    shown = {"_id": 0, "date": 1, "source": 1, "starts_at": 1}
    stored = await Slot.get_pymongo_collection().find(query, shown).to_list(None)
    counts = Counter(
        str(slot["date"])
        for slot in stored
        if not awaits_regeneration(doctor, slot.get("source", ""), slot["starts_at"])
    )
    return [BookableDay(day, counts[day.isoformat()]) for day in dates]


async def next_available_slots(doctors: Sequence[Doctor], now: datetime) -> list[Slot | None]:
    """Each doctor's earliest bookable slot, or None; one query per look-ahead step for all."""
    windows = {doctor.id: booking_window(doctor, now) for doctor in doctors if doctor.is_active}
    by_id = {doctor.id: doctor for doctor in doctors}
    earliest: dict[PydanticObjectId, Slot] = {}
    if windows:
        await _look_ahead(windows, by_id, now, earliest)  # type: ignore[arg-type]
    return [earliest.get(doctor.id) for doctor in doctors]  # type: ignore[arg-type]


async def _look_ahead(
    windows: dict[PydanticObjectId, BookingWindow],
    doctors: dict[PydanticObjectId, Doctor],
    now: datetime,
    earliest: dict[PydanticObjectId, Slot],
) -> None:
    start = min(window.earliest for window in windows.values())
    stop = max(window.latest for window in windows.values()) + _MILLISECOND
    step = FIRST_LOOK_AHEAD
    pending = set(windows)
    while pending and start < stop:
        end = min(start + step, stop)
        window = {**open_for(None, now), "starts_at": {"$gt": now, "$gte": start, "$lt": end}}

        async def read(some: Any, window: dict[str, Any] = window) -> list[Slot]:
            return await Slot.find({"doctor_id": some, **window}).to_list()

        found = await gather_in(pending, read)
        for slot in by_start(found):
            if (
                slot.doctor_id in pending
                and windows[slot.doctor_id].contains(slot.starts_at)
                and not slot_awaits_regeneration(doctors[slot.doctor_id], slot)
            ):
                earliest[slot.doctor_id] = slot
                pending.discard(slot.doctor_id)
        pending = {d for d in pending if windows[d].latest >= end}
        start, step = end, step * 2


async def next_available_slot(doctor: Doctor, now: datetime | None = None) -> Slot | None:
    return (await next_available_slots([doctor], now or utcnow()))[0]

"""Slots: created, removed and switched on and off by admins and their own doctor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import BadUserInput, Conflict, Forbidden, NotFound, SlotAlreadyBooked
from app.domain import validation
from app.domain.audit.recorder import Change, record
from app.domain.auth.actor import Actor, require_role
from app.domain.catalog.doctors import get_doctor
from app.domain.catalog.specialties import get_specialty
from app.domain.slots.ordering import by_start
from app.domain.slots.specialty import own_specialty
from app.events.messages import SlotChanged, SlotEventKind
from app.events.publisher import publish
from app.models import Doctor, Role, Slot
from app.store.chunks import gather_in
from app.store.guards import guarded
from app.store.queries.slots import NO_LOCK, open_for, update_slot

MAX_SLOT_MINUTES = 12 * 60
SLOT_DAYS_AHEAD = 731


def require_slot_manager(actor: Actor | None, doctor_id: PydanticObjectId) -> Actor:
    """ADMIN, or the DOCTOR whose slots these are."""
    found = require_role(actor, Role.ADMIN, Role.DOCTOR)
    if found.role is Role.DOCTOR and found.doctor_id != doctor_id:
        raise Forbidden("Doctors manage only their own slots")
    return found


async def get_slot(slot_id: str, field: str = "id") -> Slot:
    found = await Slot.get(validation.object_id(slot_id, field))
    if found is None or found.is_removed:
        raise NotFound("Slot", field=field)
    return found


async def bookable_slots(day: date, doctor_ids: list[PydanticObjectId] | None = None) -> list[Slot]:
    """AVAILABLE future slots on a date, ordered by start; app/domain/slots/bookable.py then
    keeps those inside each doctor's booking window."""
    # The most selective conditions first: a store without a usable index tests them in order.
    on, open_now = day.isoformat(), open_for(None, utcnow())
    if doctor_ids is None:
        return by_start(await Slot.find({"date": on, **open_now}).to_list())
    return by_start(
        await gather_in(
            doctor_ids,
            lambda some: Slot.find({"date": on, "doctor_id": some, **open_now}).to_list(),
        )
    )


async def slots_in_range(actor: Actor | None, doctor_id: str, start: date, end: date) -> list[Slot]:
    doctor_oid = validation.object_id(doctor_id, "doctorId")
    require_slot_manager(actor, doctor_oid)
    validation.date_range(start, end)
    await get_doctor(doctor_id, "doctorId")
    return by_start(
        await Slot.find(
            {
                "doctor_id": doctor_oid,
                "is_removed": False,
                "date": {"$gte": start.isoformat(), "$lte": end.isoformat()},
            }
        ).to_list()
    )


def _require_slot_day(day: date) -> None:
    """A day a clinic plans for: not past in any time zone, at most SLOT_DAYS_AHEAD away."""
    today = utcnow().date()
    # UTC-12's date is a day behind UTC's; earlier than that is past everywhere.
    if day < today - timedelta(days=1):
        raise BadUserInput("a new slot must start in the future", field="date")
    if day > today + timedelta(days=SLOT_DAYS_AHEAD):
        raise BadUserInput(f"a slot may be at most {SLOT_DAYS_AHEAD} days ahead", field="date")


@dataclass(frozen=True)
class SlotFields:
    """A slot made by hand, as asked for: a date and wall-clock times in the doctor's zone."""

    date: date
    start_time: str
    end_time: str
    specialty_id: str | None = None
    duration_minutes: int | None = None


async def create_slot(actor: Actor | None, doctor_id: str, fields: SlotFields) -> Slot:
    day, start_time, end_time = fields.date, fields.start_time, fields.end_time
    specialty_id, duration_minutes = fields.specialty_id, fields.duration_minutes
    doctor_oid = validation.object_id(doctor_id, "doctorId")
    caller = require_slot_manager(actor, doctor_oid)
    starts = validation.clock_time(start_time, "startTime")
    ends = validation.clock_time(end_time, "endTime")
    if ends <= starts:
        raise BadUserInput("endTime must be after startTime", field="endTime")
    minutes = (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)
    if duration_minutes is not None and duration_minutes != minutes:
        raise BadUserInput(
            f"durationMinutes must equal endTime - startTime ({minutes})", field="durationMinutes"
        )
    if minutes > MAX_SLOT_MINUTES:
        raise BadUserInput("a slot may last at most 12 hours", field="endTime")
    _require_slot_day(day)
    doctor = await get_doctor(doctor_id, "doctorId")
    specialty_oid = own_specialty(
        (await get_specialty(specialty_id, "specialtyId")).id if specialty_id else None, doctor
    )
    starts_at = validation.local_instant(day, starts, doctor.timezone, "startTime")
    ends_at = validation.local_instant(day, ends, doctor.timezone, "endTime")
    if starts_at <= utcnow():
        raise BadUserInput("a new slot must start in the future", field="date")
    now = utcnow()
    slot = Slot(
        doctor_id=doctor_oid,
        specialty_id=specialty_oid,
        starts_at=starts_at,
        ends_at=ends_at,
        date=day.isoformat(),
        start_time=start_time,
        end_time=end_time,
        duration_minutes=minutes,
        created_at=now,
        updated_at=now,
    )

    try:
        # The doctor's lease keeps the overlap check true until the slot is written.
        async with guarded(Doctor.get_pymongo_collection(), doctor_oid, "doctor's slots"):
            overlapping = await Slot.get_pymongo_collection().find_one(
                {
                    "doctor_id": doctor_oid,
                    "is_removed": False,
                    "starts_at": {"$lt": ends_at},
                    "ends_at": {"$gt": starts_at},
                },
                {"_id": 1},
            )
            if overlapping is not None:
                raise Conflict("The slot overlaps another slot of this doctor", field="startTime")
            await slot.insert()
    except DuplicateKeyError as exc:
        raise Conflict("The doctor already has a slot at this time", field="startTime") from exc
    assert slot.id is not None
    created = slot.model_dump(
        include={"doctor_id", "specialty_id", "date", "start_time", "end_time", "starts_at"}
    )
    await record(caller, now, Change("slot.created", "slot", slot.id, after=created))
    await publish(SlotChanged(kind=SlotEventKind.ADDED, slot=slot, at=slot.created_at))
    return slot


async def remove_slot(actor: Actor | None, slot_id: str) -> Slot:
    slot = await get_slot(slot_id)
    caller = require_slot_manager(actor, slot.doctor_id)
    now = utcnow()
    removed = await update_slot(
        {"_id": slot.id, "is_removed": False, "is_booked": False},
        {"is_removed": True, "is_available": False, "booking_lock": NO_LOCK, "updated_at": now},
    )
    if removed is None:
        current = await Slot.get(slot.id)
        if current is not None and current.is_booked and not current.is_removed:
            raise SlotAlreadyBooked("A booked slot cannot be removed; cancel its appointment first")
        raise NotFound("Slot", field="id")
    await record(
        caller,
        now,
        Change(
            "slot.removed",
            "slot",
            slot.id,  # type: ignore[arg-type]
            before={"is_removed": False, "is_available": slot.is_available},
            after={"is_removed": True, "is_available": False},
        ),
    )
    await publish(SlotChanged(kind=SlotEventKind.REMOVED, slot=removed, at=now))
    return removed


async def set_availability(actor: Actor | None, slot_id: str, is_available: bool) -> Slot:
    slot = await get_slot(slot_id)
    caller = require_slot_manager(actor, slot.doctor_id)
    now = utcnow()
    changes: dict[str, Any] = {"is_available": is_available, "updated_at": now}
    if not is_available:
        changes["booking_lock"] = NO_LOCK
    result = await update_slot({"_id": slot.id, "is_removed": False}, changes)
    if result is None:
        raise NotFound("Slot", field="id")
    if slot.is_available != is_available:
        await record(
            caller,
            now,
            Change(
                "slot.availability_changed",
                "slot",
                slot.id,  # type: ignore[arg-type]
                before={"is_available": slot.is_available},
                after={"is_available": is_available},
            ),
        )
        await publish(SlotChanged(kind=SlotEventKind.AVAILABILITY_CHANGED, slot=result, at=now))
    return result

"""A regeneration's writes as all-or-nothing steps, and what it announces once they stand.

Removing comes before adding: a new slot may take the start instant of one that goes, and
the unique slot key refuses two live slots there. Every write is bulk and chunked (200 ids
a command, app/store/chunks.py); each undo finds exactly what its step wrote.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId

from app.domain.all_or_nothing import Step
from app.domain.scheduling.generator import working_intervals
from app.domain.scheduling.new_slots import (
    Occupied,
    added_events,
    insert_slots,
    new_slot_documents,
)
from app.domain.scheduling.regeneration import RegenerationPlan, still_available
from app.domain.slots.announce import announce_slot_changes
from app.events.messages import SlotChanged, SlotEventKind
from app.models import Appointment, AppointmentStatus, Doctor, Slot
from app.models.schedule import TimeRange
from app.store.chunks import chunked, count_in, one_of
from app.store.queries.slots import NO_LOCK

CONFLICT_STATUSES = [
    AppointmentStatus.SCHEDULED.value,
    AppointmentStatus.CONFIRMED.value,
    AppointmentStatus.IN_PROGRESS.value,
]


@dataclass(frozen=True)
class ScheduleChangeResult:
    slots_added: int
    slots_removed: int
    conflicts: list[Appointment] = field(default_factory=list)
    horizon_end: date | None = None


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


class Regeneration:
    """The two slot steps of one plan; `removed` and `inserted` hold what each wrote."""

    def __init__(self, plan: RegenerationPlan) -> None:
        assert plan.doctor.id is not None
        self.plan = plan
        self.doctor_id = plan.doctor.id
        self.removed: list[dict[str, Any]] = []
        self.inserted: list[dict[str, Any]] = []
        self._attempted: list[Any] = []

    def steps(self) -> list[Step]:
        return [
            Step("slots_removed", self._remove, self._restore),
            Step("slots_added", self._add, self._take_back),
        ]

    async def _remove(self) -> None:
        """Each chunk's slots still AVAILABLE go; one locked or booked meanwhile stays.

        The doctor's id comes first in the filter: the embedded store serves an `_id: {$in}`
        by scanning the whole collection, an equality on `doctor_id` through `doctor_slots`."""
        now, collection = self.plan.now, Slot.get_pymongo_collection()
        by_id = {s["_id"]: s for s in self.plan.removable}
        removal = {"is_removed": True, "is_available": False, "booking_lock": NO_LOCK}
        for piece in chunked(by_id):
            result = await collection.update_many(
                {"doctor_id": self.doctor_id, "_id": one_of(piece), **still_available(now)},
                {"$set": {**removal, "updated_at": now}},
            )
            if result.modified_count == len(piece):
                # Every one went: each is what was read, as the update left it.
                self.removed += [{**by_id[i], **removal, "updated_at": now} for i in piece]
            elif result.modified_count:
                # Under the doctor's lease nothing else removes these slots: the stamp is ours.
                self.removed += await collection.find(
                    {
                        "doctor_id": self.doctor_id,
                        "_id": one_of(piece),
                        "is_removed": True,
                        "updated_at": now,
                    },
                ).to_list()

    async def _restore(self) -> None:
        """The removed slots live again, with the `updated_at` each had (a lock that had
        expired on one is not brought back: it held nothing)."""
        now, collection = self.plan.now, Slot.get_pymongo_collection()
        stamps: dict[datetime, list[Any]] = defaultdict(list)
        for slot in self.plan.removable:
            stamps[slot["updated_at"]].append(slot["_id"])
        for stamp, ids in stamps.items():

            async def restore(some: Any, stamp: datetime = stamp) -> int:
                found = await collection.update_many(
                    {"doctor_id": self.doctor_id, "_id": some, "updated_at": now},
                    {"$set": {"is_removed": False, "is_available": True, "updated_at": stamp}},
                )
                return found.modified_count

            await count_in(ids, restore)

    async def _add(self) -> None:
        plan = self.plan
        gone = {s["_id"] for s in self.removed}
        occupied = Occupied(
            [(s["starts_at"], s["ends_at"]) for s in plan.existing if s["_id"] not in gone]
        )
        documents = new_slot_documents(plan.doctor, plan.planned, plan.keep, occupied, plan.now)
        for document in documents:
            document.setdefault("_id", ObjectId())
        # Known before the insert: an insert that stops half-way is taken back whole.
        self._attempted = [d["_id"] for d in documents]
        self.inserted = await insert_slots(documents)

    async def _take_back(self) -> None:
        """The slots this change made go again; a slot a patient locked meanwhile stays."""
        collection = Slot.get_pymongo_collection()
        available = still_available(self.plan.now)  # every slot it made starts later

        async def delete(some: Any) -> int:
            found = await collection.delete_many(
                {"doctor_id": self.doctor_id, "_id": some, **available}
            )
            return found.deleted_count

        await count_in(self._attempted, delete)

    async def announce(self) -> None:
        now = self.plan.now

        def events() -> list[SlotChanged]:
            return [
                *(
                    SlotChanged(kind=SlotEventKind.REMOVED, slot=Slot.model_validate(d), at=now)
                    for d in self.removed
                ),
                *added_events(self.inserted, now),
            ]

        await announce_slot_changes(self.doctor_id, len(self.removed) + len(self.inserted), events)

    async def result(self, doctor: Doctor) -> ScheduleChangeResult:
        conflicts = await conflicting_appointments(doctor, self.plan.overrides, self.plan.now)
        return ScheduleChangeResult(
            slots_added=len(self.inserted),
            slots_removed=len(self.removed),
            conflicts=conflicts,
            horizon_end=self.plan.last_day,
        )

"""New generated slots: their documents, built fast, inserted once whoever races, and announced.

A new slot never overlaps a live one (`Occupied`); the slot key's unique index refuses a
slot another process made first, which the insert skips.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError

from app.domain.scheduling.generator import PlannedSlot
from app.events.messages import SlotChanged, SlotEventKind
from app.models import Doctor, Slot, SlotSource
from app.models.slot import slot_key

Interval = tuple[datetime, datetime]
Identity = tuple[datetime, datetime, str, str, str]


def identity_of_doc(slot: dict[str, Any]) -> Identity:
    return (slot["starts_at"], slot["ends_at"], slot["date"], slot["start_time"], slot["end_time"])


def identity(planned: PlannedSlot) -> Identity:
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
        if identity(p) not in keep and not occupied.overlaps(p.starts_at, p.ends_at)
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

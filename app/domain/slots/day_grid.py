"""A doctor's day as a grid: every live slot of the date, whatever its state."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from beanie import PydanticObjectId

from app.domain.slots.ordering import by_start
from app.models import Slot
from app.store.chunks import chunked, gather_in, one_of


async def day_slots(keys: Sequence[tuple[PydanticObjectId, date]]) -> list[list[Slot]]:
    """Each (doctor, date)'s live slots ordered by start, all in one store query.

    Removed slots are left out: they are history, not part of the day. The lock holder
    stays on the document; the Slot type shows it to admins only.
    """
    if not keys:
        return []
    doctor_ids = list(dict.fromkeys(doctor_id for doctor_id, _ in keys))
    days = list(dict.fromkeys(day.isoformat() for _, day in keys))
    found: list[Slot] = []
    for some_days in chunked(days):
        on = one_of(some_days)

        async def read(some: Any, on: Any = on) -> list[Slot]:
            return await Slot.find({"date": on, "doctor_id": some, "is_removed": False}).to_list()

        found += await gather_in(doctor_ids, read)
    grouped: dict[tuple[str, str], list[Slot]] = defaultdict(list)
    for slot in found:
        grouped[(str(slot.doctor_id), slot.date)].append(slot)
    return [by_start(grouped.get((str(doctor_id), day.isoformat()), [])) for doctor_id, day in keys]


async def doctor_day(doctor_id: PydanticObjectId, day: date) -> list[Slot]:
    return (await day_slots([(doctor_id, day)]))[0]

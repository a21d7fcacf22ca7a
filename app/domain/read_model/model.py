"""The read model itself: bookable-slot days and the catalogue, kept current by events.

It only serves reads. Every claim (lockSlot, bookAppointment) still decides in the store,
and the time rules (start passed, lock expired, booking window) are applied to what it
holds on each request, by the caller (app/domain/slots/bookable.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from beanie import PydanticObjectId

from app.domain.read_model.keyed_cache import KeyedCache
from app.events.messages import CacheInvalidated, Event, Resync, SlotChanged
from app.events.publisher import delivery_epoch
from app.models import Doctor, Slot, Specialty
from app.store.chunks import chunked, gather_in, one_of

log = logging.getLogger(__name__)

DayKey = tuple[PydanticObjectId, str]  # a doctor and a "YYYY-MM-DD" date in its zone
SlotsById = dict[PydanticObjectId, Slot]
_ALL = "all"  # the catalogue caches hold one entry: the whole collection


async def _read_days(keys: list[DayKey]) -> dict[DayKey, SlotsById]:
    """Every slot of these doctors' dates in one query, removed ones too: a removed slot is
    kept so that a late event about it cannot bring it back."""
    doctor_ids = list(dict.fromkeys(doctor_id for doctor_id, _ in keys))
    days = list(dict.fromkeys(day for _, day in keys))
    wanted = set(keys)
    found: dict[DayKey, SlotsById] = defaultdict(dict)
    slots: list[Slot] = []
    for some_days in chunked(days):
        on = one_of(some_days)

        async def read(some: Any, on: Any = on) -> list[Slot]:
            return await Slot.find({"date": on, "doctor_id": some}).to_list()

        slots += await gather_in(doctor_ids, read)
    for slot in slots:
        key = (slot.doctor_id, slot.date)
        if key in wanted and slot.id is not None:
            found[key][slot.id] = slot
    return found


async def _read_doctors(_: list[str]) -> dict[str, dict[PydanticObjectId, Doctor]]:
    return {_ALL: {d.id: d for d in await Doctor.find({}).to_list() if d.id is not None}}


async def _read_specialties(_: list[str]) -> dict[str, dict[PydanticObjectId, Specialty]]:
    return {_ALL: {s.id: s for s in await Specialty.find({}).to_list() if s.id is not None}}


def _newer(slot: Slot) -> Callable[[SlotsById], SlotsById]:
    """The change an event carries, applied unless what is held is already later."""

    def apply(held: SlotsById) -> SlotsById:
        assert slot.id is not None
        current = held.get(slot.id)
        if current is not None and current.updated_at > slot.updated_at:
            return held
        return {**held, slot.id: slot}  # a new dict: a request may be reading the old one

    return apply


class ReadModel:
    """One per API process, fed by its event hub (app/events/hub.py watchers)."""

    def __init__(self, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        self.days: KeyedCache[DayKey, SlotsById] = KeyedCache(
            _read_days, max_age_seconds, dict, group=lambda key: key[1]
        )
        self.doctors: KeyedCache[str, dict[PydanticObjectId, Doctor]] = KeyedCache(
            _read_doctors, max_age_seconds, dict
        )
        self.specialties: KeyedCache[str, dict[PydanticObjectId, Specialty]] = KeyedCache(
            _read_specialties, max_age_seconds, dict
        )
        self.epoch: int | None = None
        self.version = 0  # one more on every change it applies or drop it makes

    # --- whether it may answer ------------------------------------------------------

    def serving(self) -> bool:
        """True when every event since what it holds was read has reached it. A new epoch
        (Redis came back, the subscription was re-made) or none (Redis away or failing)
        drops everything: what was held may lack the events of the gap."""
        epoch = delivery_epoch()
        if epoch != self.epoch:
            if self.epoch is not None:
                log.info("read model dropped: event delivery %s", "resumed" if epoch else "lost")
            self.clear()
            self.epoch = epoch
        return epoch is not None

    # --- reads ----------------------------------------------------------------------

    async def all_doctors(self) -> dict[PydanticObjectId, Doctor]:
        return (await self.doctors.get_many([_ALL]))[_ALL]

    async def all_specialties(self) -> dict[PydanticObjectId, Specialty]:
        return (await self.specialties.get_many([_ALL]))[_ALL]

    async def doctors_by_id(self, ids: Sequence[PydanticObjectId]) -> list[Doctor | None]:
        """A doctor it does not know yet (made since the catalogue was read, its event still
        on its way) is read from the store, and the catalogue is read again next time."""
        known = await self.all_doctors()
        unknown = [i for i in ids if i not in known]
        extra: dict[PydanticObjectId, Doctor] = {}
        if unknown:
            found = await gather_in(unknown, lambda some: Doctor.find({"_id": some}).to_list())
            extra = {d.id: d for d in found if d.id is not None}
            if extra:
                self.doctors.drop(_ALL)
        return [known.get(i) or extra.get(i) for i in ids]

    async def specialties_by_id(self, ids: Sequence[PydanticObjectId]) -> list[Specialty | None]:
        known = await self.all_specialties()
        unknown = [i for i in ids if i not in known]
        extra: dict[PydanticObjectId, Specialty] = {}
        if unknown:
            found = await gather_in(unknown, lambda some: Specialty.find({"_id": some}).to_list())
            extra = {s.id: s for s in found if s.id is not None}
            if extra:
                self.specialties.drop(_ALL)
        return [known.get(i) or extra.get(i) for i in ids]

    async def live_slots(
        self, keys: Iterable[tuple[PydanticObjectId, date]]
    ) -> dict[tuple[PydanticObjectId, date], list[Slot]]:
        """Each (doctor, date)'s slots that are not removed, in no particular order."""
        asked = list(keys)
        held = await self.days.get_many((doctor_id, day.isoformat()) for doctor_id, day in asked)
        return {
            (doctor_id, day): [
                s for s in held[(doctor_id, day.isoformat())].values() if not s.is_removed
            ]
            for doctor_id, day in asked
        }

    # --- the event feed ---------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """A hub watcher: called for every event this process hears, in order."""
        if isinstance(event, SlotChanged):
            slot = event.slot
            if slot.id is None:
                return
            self.days.change((slot.doctor_id, slot.date), _newer(slot))
        elif isinstance(event, CacheInvalidated):
            self._invalidate(event)
        elif isinstance(event, Resync) and event.doctor_id is not None:
            self._invalidate(CacheInvalidated(at=event.at, doctor_id=event.doctor_id))
        elif isinstance(event, Resync):
            self.clear()
        else:
            return
        self.version += 1

    def _invalidate(self, event: CacheInvalidated) -> None:
        if event.catalog:
            self.doctors.drop(_ALL)
            self.specialties.drop(_ALL)
        if event.doctor_id is not None:
            for key in self.days.held():
                if key[0] == event.doctor_id and (event.dates is None or key[1] in event.dates):
                    self.days.drop(key)

    def clear(self) -> None:
        self.days.clear()
        self.doctors.clear()
        self.specialties.clear()
        self.version += 1

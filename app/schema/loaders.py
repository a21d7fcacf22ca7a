"""Per-request batching: a list costs one store query per kind of thing, not one per item.

Doctors, specialties and bookable slots come from the read model when it may answer
(app/domain/read_model): no store query at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from beanie import Document, PydanticObjectId
from strawberry.dataloader import DataLoader

from app.core.clock import utcnow
from app.domain.audit.queries import histories
from app.domain.catalog.doctors import by_name
from app.domain.read_model import serving_model
from app.domain.slots import day_grid
from app.domain.slots.bookable import bookable_in_memory, next_available_slots
from app.domain.slots.management import bookable_slots
from app.models import Appointment, AuditEntry, Doctor, Slot, Specialty, User
from app.store.chunks import gather_in

D = TypeVar("D", bound=Document)


async def _find_by_id[D: Document](
    model: type[D], ids: Sequence[PydanticObjectId]
) -> list[D | None]:
    docs = await gather_in(ids, lambda some: model.find({"_id": some}).to_list())
    found = {doc.id: doc for doc in docs}
    return [found.get(i) for i in ids]


def _by_id[D: Document](model: type[D]) -> DataLoader[PydanticObjectId, D | None]:
    async def load(ids: Sequence[PydanticObjectId]) -> list[D | None]:
        return await _find_by_id(model, ids)

    return DataLoader(load_fn=load)


async def _doctors(ids: Sequence[PydanticObjectId]) -> list[Doctor | None]:
    model = serving_model()
    if model is not None:
        return await model.doctors_by_id(ids)
    return await _find_by_id(Doctor, ids)


async def _specialties(ids: Sequence[PydanticObjectId]) -> list[Specialty | None]:
    model = serving_model()
    if model is not None:
        return await model.specialties_by_id(ids)
    return await _find_by_id(Specialty, ids)


async def _bookable_by_doctor_day(
    keys: Sequence[tuple[PydanticObjectId, date]],
) -> list[list[Slot]]:
    model = serving_model()
    if model is not None:
        return await bookable_in_memory(model, keys, utcnow())
    doctors_by_day: dict[date, list[PydanticObjectId]] = defaultdict(list)
    for doctor_id, day in keys:
        doctors_by_day[day].append(doctor_id)
    grouped: dict[tuple[PydanticObjectId, date], list[Slot]] = defaultdict(list)
    for day, doctor_ids in doctors_by_day.items():
        for slot in await bookable_slots(day, doctor_ids=doctor_ids):
            grouped[(slot.doctor_id, day)].append(slot)
    return [grouped.get(key, []) for key in keys]


async def _active_doctors_by_specialty(ids: Sequence[PydanticObjectId]) -> list[list[Doctor]]:
    grouped: dict[PydanticObjectId, list[Doctor]] = defaultdict(list)
    model = serving_model()
    if model is not None:
        wanted = set(ids)
        found = [
            d
            for d in (await model.all_doctors()).values()
            if d.is_active and d.specialty_id in wanted
        ]
    else:
        found = await gather_in(
            ids, lambda some: Doctor.find({"specialty_id": some, "is_active": True}).to_list()
        )
    for doctor in by_name(found):
        grouped[doctor.specialty_id].append(doctor)
    return [grouped.get(i, []) for i in ids]


async def _next_available(doctors: Sequence[Doctor]) -> list[Slot | None]:
    return await next_available_slots(doctors, utcnow())


def _doctor_key(doctor: Doctor) -> str:
    return str(doctor.id)


@dataclass
class Loaders:
    specialty: DataLoader[PydanticObjectId, Specialty | None] = field(
        default_factory=lambda: DataLoader(load_fn=_specialties)
    )
    doctor: DataLoader[PydanticObjectId, Doctor | None] = field(
        default_factory=lambda: DataLoader(load_fn=_doctors)
    )
    user: DataLoader[PydanticObjectId, User | None] = field(default_factory=lambda: _by_id(User))
    slot: DataLoader[PydanticObjectId, Slot | None] = field(default_factory=lambda: _by_id(Slot))
    appointment: DataLoader[PydanticObjectId, Appointment | None] = field(
        default_factory=lambda: _by_id(Appointment)
    )
    bookable_slots: DataLoader[tuple[PydanticObjectId, date], list[Slot]] = field(
        default_factory=lambda: DataLoader(load_fn=_bookable_by_doctor_day)
    )
    specialty_doctors: DataLoader[PydanticObjectId, list[Doctor]] = field(
        default_factory=lambda: DataLoader(load_fn=_active_doctors_by_specialty)
    )
    day_slots: DataLoader[tuple[PydanticObjectId, date], list[Slot]] = field(
        default_factory=lambda: DataLoader(load_fn=day_grid.day_slots)
    )
    appointment_history: DataLoader[PydanticObjectId, list[AuditEntry]] = field(
        default_factory=lambda: DataLoader(load_fn=histories)
    )
    # Keyed by the doctor document itself: the booking window needs its policy, no re-read.
    next_available_slot: DataLoader[Doctor, Slot | None] = field(
        default_factory=lambda: DataLoader(load_fn=_next_available, cache_key_fn=_doctor_key)
    )

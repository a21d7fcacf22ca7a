"""The catalogue: specialties, doctors and what a patient could book, and their upkeep."""

from __future__ import annotations

from datetime import date

import strawberry

from app.domain import doctor_changes
from app.domain.catalog import doctors, specialties
from app.domain.slots import bookable
from app.schema.catalog.inputs import (
    DoctorInput,
    DoctorUpdateInput,
    SpecialtyInput,
    SpecialtyUpdateInput,
)
from app.schema.catalog.types import Doctor, Slot, Specialty
from app.schema.context import Info


@strawberry.type
class CatalogQuery:
    @strawberry.field
    async def specialties(self, include_inactive: bool | None = False) -> list[Specialty]:
        return [
            Specialty.from_doc(s)
            for s in await specialties.list_specialties(bool(include_inactive))
        ]

    @strawberry.field
    async def specialty(self, id: strawberry.ID) -> Specialty | None:
        return Specialty.from_doc(await specialties.get_specialty(id))

    @strawberry.field(description="With a date, only doctors with a bookable slot that day.")
    async def doctors(
        self,
        info: Info,
        specialty_id: strawberry.ID | None = None,
        date: date | None = None,
        include_inactive: bool | None = False,
    ) -> list[Doctor]:
        if date is None:
            found = await doctors.list_doctors(specialty_id, None, bool(include_inactive))
            for doctor in found:  # their slots' states ask for them again
                info.context.loaders.doctor.prime(doctor.id, doctor)  # type: ignore[arg-type]
            return [Doctor.from_doc(d) for d in found]
        with_slots = await bookable.doctors_bookable_on(
            date, specialty_id, bool(include_inactive), info.context.now
        )
        for doctor, open_slots in with_slots:
            info.context.loaders.bookable_slots.prime((doctor.id, date), open_slots)  # type: ignore[arg-type]
            info.context.loaders.doctor.prime(doctor.id, doctor)  # type: ignore[arg-type]
        return [Doctor.from_doc(d) for d, _ in with_slots]

    @strawberry.field
    async def doctor(self, info: Info, id: strawberry.ID) -> Doctor | None:
        found = await doctors.get_doctor(id)
        info.context.loaders.doctor.prime(found.id, found)  # type: ignore[arg-type]
        return Doctor.from_doc(found)

    @strawberry.field(
        description="Bookable now: AVAILABLE, future, inside the booking window, by start."
    )
    async def available_slots(self, info: Info, doctor_id: strawberry.ID, date: date) -> list[Slot]:
        found = await bookable.doctor_bookable_slots(doctor_id, date, info.context.now)
        return [Slot.from_doc(s) for s in found]


@strawberry.type
class CatalogMutation:
    @strawberry.mutation
    async def create_specialty(self, info: Info, input: SpecialtyInput) -> Specialty:
        created = await specialties.create_specialty(
            info.context.actor, input.name, input.description
        )
        return Specialty.from_doc(created)

    @strawberry.mutation
    async def update_specialty(
        self, info: Info, id: strawberry.ID, input: SpecialtyUpdateInput
    ) -> Specialty:
        updated = await specialties.update_specialty(
            info.context.actor, id, input.name, input.description, input.is_active
        )
        return Specialty.from_doc(updated)

    @strawberry.mutation
    async def create_doctor(self, info: Info, input: DoctorInput) -> Doctor:
        created = await doctors.create_doctor(info.context.actor, input.fields(), input.password)
        return Doctor.from_doc(created)

    @strawberry.mutation
    async def update_doctor(
        self, info: Info, id: strawberry.ID, input: DoctorUpdateInput
    ) -> Doctor:
        updated = await doctor_changes.update_doctor(info.context.actor, id, input.fields())
        return Doctor.from_doc(updated)

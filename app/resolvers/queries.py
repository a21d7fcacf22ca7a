"""Query resolvers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from app.domain import validation
from app.domain.booking import appointments
from app.domain.catalog import doctors, specialties
from app.domain.slots import management as slots
from app.models import User as UserDoc
from app.schema.context import Info
from app.schema.enums import AppointmentStatus
from app.schema.types import (
    Appointment,
    AppointmentConnection,
    AppointmentEdge,
    Doctor,
    PageInfo,
    Slot,
    Specialty,
    User,
)


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info) -> User | None:
        actor = info.context.actor
        if actor is None:
            return None
        user = await UserDoc.get(actor.user_id)
        return User.from_doc(user) if user else None

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
        bookable = None
        if date is not None:
            specialty_oid = validation.optional_object_id(specialty_id, "specialtyId")
            bookable = await slots.bookable_slots(date, specialty_id=specialty_oid)
            by_doctor: dict[object, list[object]] = {}
            for slot in bookable:
                by_doctor.setdefault(slot.doctor_id, []).append(slot)
            for doctor_id, found in by_doctor.items():
                info.context.loaders.bookable_slots.prime((doctor_id, date), found)  # type: ignore[arg-type]
        found_doctors = await doctors.list_doctors(specialty_id, bookable, bool(include_inactive))
        if date is not None:
            for doctor in found_doctors:
                info.context.loaders.bookable_slots.prime((doctor.id, date), [])  # type: ignore[arg-type]
        return [Doctor.from_doc(d) for d in found_doctors]

    @strawberry.field
    async def doctor(self, id: strawberry.ID) -> Doctor | None:
        return Doctor.from_doc(await doctors.get_doctor(id))

    @strawberry.field(description="Bookable now: AVAILABLE, in the future, ordered by start.")
    async def available_slots(self, doctor_id: strawberry.ID, date: date) -> list[Slot]:
        return [Slot.from_doc(s) for s in await slots.doctor_bookable_slots(doctor_id, date)]

    @strawberry.field(description="Every state; ADMIN, or that DOCTOR.")
    async def slots(
        self,
        info: Info,
        doctor_id: strawberry.ID,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> list[Slot]:
        found = await slots.slots_in_range(info.context.actor, doctor_id, from_, to)
        return [Slot.from_doc(s) for s in found]

    @strawberry.field
    async def slot(self, id: strawberry.ID) -> Slot | None:
        return Slot.from_doc(await slots.get_slot(id))

    @strawberry.field
    async def my_appointments(
        self, info: Info, status: list[AppointmentStatus] | None = None
    ) -> list[Appointment]:
        found = await appointments.my_appointments(info.context.actor, status)
        return [Appointment.from_doc(a) for a in found]

    @strawberry.field(description="ADMIN: all; DOCTOR: own. Ordered by start, cursor-paginated.")
    async def appointments(
        self,
        info: Info,
        doctor_id: strawberry.ID | None = None,
        patient_id: strawberry.ID | None = None,
        status: list[AppointmentStatus] | None = None,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AppointmentConnection:
        page = await appointments.list_appointments(
            info.context.actor,
            doctor_id,
            patient_id,
            status,
            from_,
            to,
            50 if first is None else first,
            after,
        )
        edges = [
            AppointmentEdge(cursor=c, node=Appointment.from_doc(a))
            for a, c in zip(page.items, page.cursors, strict=True)
        ]
        return AppointmentConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
        )

    @strawberry.field(description="Its patient, its doctor, or ADMIN.")
    async def appointment(self, info: Info, id: strawberry.ID) -> Appointment | None:
        return Appointment.from_doc(await appointments.get_appointment(info.context.actor, id))

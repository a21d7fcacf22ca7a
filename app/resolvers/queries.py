"""Query resolvers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from app.domain.audit import queries as audit
from app.domain.booking import appointments
from app.domain.booking.my_locks import my_locks
from app.domain.catalog import doctors, specialties
from app.domain.slots import bookable
from app.domain.slots import management as slots
from app.models import User as UserDoc
from app.resolvers.notifications import NotificationQuery
from app.schema.audit_types import AuditEntry, AuditEntryConnection, AuditEntryEdge
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
class Query(NotificationQuery):
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
        if date is None:
            found = await doctors.list_doctors(specialty_id, None, bool(include_inactive))
            return [Doctor.from_doc(d) for d in found]
        with_slots = await bookable.doctors_bookable_on(
            date, specialty_id, bool(include_inactive), info.context.now
        )
        for doctor, open_slots in with_slots:
            info.context.loaders.bookable_slots.prime((doctor.id, date), open_slots)  # type: ignore[arg-type]
            info.context.loaders.doctor.prime(doctor.id, doctor)  # type: ignore[arg-type]
        return [Doctor.from_doc(d) for d, _ in with_slots]

    @strawberry.field
    async def doctor(self, id: strawberry.ID) -> Doctor | None:
        return Doctor.from_doc(await doctors.get_doctor(id))

    @strawberry.field(
        description="Bookable now: AVAILABLE, future, inside the booking window, by start."
    )
    async def available_slots(self, info: Info, doctor_id: strawberry.ID, date: date) -> list[Slot]:
        found = await bookable.doctor_bookable_slots(doctor_id, date, info.context.now)
        return [Slot.from_doc(s) for s in found]

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

    @strawberry.field(description="The caller's unexpired locks, by start; empty unless a PATIENT.")
    async def my_locks(self, info: Info) -> list[Slot]:
        return [Slot.from_doc(s) for s in await my_locks(info.context.actor, info.context.now)]

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

    @strawberry.field(
        description="ADMIN. Every recorded change, oldest first, cursor-paginated (first <= 100)."
    )
    async def audit_log(
        self,
        info: Info,
        entity_id: strawberry.ID | None = None,
        actor_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AuditEntryConnection:
        page = await audit.audit_log(
            info.context.actor,
            entity_id,
            actor_id,
            from_,
            to,
            50 if first is None else first,
            after,
        )
        return AuditEntryConnection(
            edges=[
                AuditEntryEdge(cursor=c, node=AuditEntry.from_doc(e))
                for e, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
        )

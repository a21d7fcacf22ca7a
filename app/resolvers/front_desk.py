"""The front desk's operations: find and register patients, check them in."""

from __future__ import annotations

import strawberry

from app.domain.booking.check_in import check_in
from app.domain.patients.registration import register_patient
from app.domain.patients.search import search_patients
from app.schema.booking.types import Appointment
from app.schema.catalog.types import User
from app.schema.context import Info
from app.schema.front_desk_types import PatientInput, UserConnection, UserEdge
from app.schema.paging import PageInfo


@strawberry.type
class FrontDeskQuery:
    @strawberry.field(
        description="ADMIN: patients whose name, email or phone has a word starting with each "
        "term (case- and accent-insensitive; digits match any run of the phone), by name."
    )
    async def patients(
        self, info: Info, search: str, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        page = await search_patients(
            info.context.actor, search, 20 if first is None else first, after
        )
        return UserConnection(
            edges=[
                UserEdge(cursor=cursor, node=User.from_doc(user))
                for user, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
        )


@strawberry.type
class FrontDeskMutation:
    @strawberry.mutation(description="ADMIN (front desk): a walk-in patient; email optional.")
    async def register_patient(self, info: Info, input: PatientInput) -> User:
        return User.from_doc(await register_patient(info.context.actor, input.fields()))

    @strawberry.mutation(
        description="ADMIN or its DOCTOR: the patient arrived. SCHEDULED or CONFIRMED, from "
        "CHECK_IN_OPENS_MINUTES before the start; checking in twice returns the first."
    )
    async def check_in_appointment(self, info: Info, id: strawberry.ID) -> Appointment:
        return Appointment.from_doc(await check_in(info.context.actor, id))

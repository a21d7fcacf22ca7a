"""Mutation resolvers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from app.domain import emergencies
from app.domain.auth import accounts as auth
from app.domain.booking import appointments, locks, rescheduling
from app.domain.booking import bookings as booking
from app.domain.catalog import doctors, specialties
from app.domain.scheduling import schedules
from app.domain.slots import management as slots
from app.resolvers.notifications import NotificationMutation
from app.schema.context import Info
from app.schema.enums import AppointmentStatus
from app.schema.inputs import (
    BookAppointmentInput,
    DoctorInput,
    DoctorUpdateInput,
    EmergencyRequestInput,
    RegisterInput,
    SlotInput,
    SpecialtyInput,
    SpecialtyUpdateInput,
)
from app.schema.rate_limited import RateLimited
from app.schema.scheduling_inputs import ScheduleInput, TimeRangeInput
from app.schema.scheduling_types import ScheduleChange
from app.schema.types import (
    Appointment,
    AuthPayload,
    Doctor,
    EmergencyRequest,
    Slot,
    Specialty,
    User,
)

IDEMPOTENCY_KEY = strawberry.argument(
    description="Retrying with a key you already used for this request returns its first result."
)


def _auth_payload(session: auth.Session) -> AuthPayload:
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        token_type="Bearer",
        expires_in=session.expires_in,
        user=User.from_doc(session.user),
    )


@strawberry.type
class Mutation(NotificationMutation):
    @strawberry.mutation(
        description="Creates a PATIENT account and signs it in.",
        extensions=[RateLimited("register_address", by_address=True)],
    )
    async def register(self, input: RegisterInput) -> AuthPayload:
        return _auth_payload(
            await auth.register(
                input.email, input.password, input.name, input.phone, input.timezone
            )
        )

    @strawberry.mutation(extensions=[RateLimited("login_address", by_address=True)])
    async def login(self, email: str, password: str) -> AuthPayload:
        return _auth_payload(await auth.login(email, password))

    @strawberry.mutation(description="Rotates: the old refresh token stops working.")
    async def refresh_token(self, refresh_token: str) -> AuthPayload:
        return _auth_payload(await auth.refresh(refresh_token))

    @strawberry.mutation
    async def logout(self, refresh_token: str) -> bool:
        return await auth.logout(refresh_token)

    @strawberry.mutation(
        description="patientId: an ADMIN booking on a patient's behalf.",
        extensions=[RateLimited("lock")],
    )
    async def lock_slot(
        self,
        info: Info,
        slot_id: strawberry.ID,
        patient_id: strawberry.ID | None = None,
        idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None,
    ) -> Slot:
        locked = await locks.lock_slot(info.context.actor, slot_id, patient_id, idempotency_key)
        return Slot.from_doc(locked)

    @strawberry.mutation
    async def unlock_slot(self, info: Info, slot_id: strawberry.ID) -> Slot:
        return Slot.from_doc(await locks.unlock_slot(info.context.actor, slot_id))

    @strawberry.mutation(extensions=[RateLimited("booking")])
    async def book_appointment(self, info: Info, input: BookAppointmentInput) -> Appointment:
        placed = await booking.book_appointment(
            info.context.actor,
            input.slot_id,
            input.doctor_id,
            input.reason_for_visit,
            input.patient_id,
            input.idempotency_key,
        )
        return Appointment.from_doc(placed.appointment, placed.slot)

    @strawberry.mutation
    async def cancel_appointment(
        self,
        info: Info,
        id: strawberry.ID,
        reason: str | None = None,
        idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None,
    ) -> Appointment:
        return Appointment.from_doc(
            await appointments.cancel_appointment(info.context.actor, id, reason, idempotency_key)
        )

    @strawberry.mutation(
        description="Its PATIENT or ADMIN moves it to another slot of the same specialty.",
        extensions=[RateLimited("booking")],
    )
    async def reschedule_appointment(
        self,
        info: Info,
        id: strawberry.ID,
        slot_id: strawberry.ID,
        idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None,
    ) -> Appointment:
        moved = await rescheduling.reschedule_appointment(
            info.context.actor, id, slot_id, idempotency_key
        )
        return Appointment.from_doc(moved.appointment, moved.slot)

    @strawberry.mutation
    async def update_appointment_status(
        self,
        info: Info,
        id: strawberry.ID,
        status: AppointmentStatus,
        notes: str | None = None,
        virtual_meeting_link: str | None = None,
    ) -> Appointment:
        changed = await appointments.change_status(
            info.context.actor, id, status, notes, virtual_meeting_link
        )
        return Appointment.from_doc(changed)

    @strawberry.mutation(extensions=[RateLimited("emergency")])
    async def send_emergency_request(
        self, info: Info, input: EmergencyRequestInput
    ) -> EmergencyRequest:
        request = await emergencies.send_emergency_request(
            info.context.actor, input.message, input.specialty_id, input.doctor_id
        )
        return EmergencyRequest.from_doc(request)

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
        return Doctor.from_doc(await doctors.update_doctor(info.context.actor, id, input.fields()))

    @strawberry.mutation
    async def create_slot(self, info: Info, doctor_id: strawberry.ID, input: SlotInput) -> Slot:
        created = await slots.create_slot(
            info.context.actor,
            doctor_id,
            input.specialty_id,
            input.date,
            input.start_time,
            input.end_time,
            input.duration_minutes,
        )
        return Slot.from_doc(created)

    @strawberry.mutation
    async def remove_slot(self, info: Info, id: strawberry.ID) -> Slot:
        return Slot.from_doc(await slots.remove_slot(info.context.actor, id))

    @strawberry.mutation
    async def set_slot_availability(
        self, info: Info, id: strawberry.ID, is_available: bool
    ) -> Slot:
        return Slot.from_doc(await slots.set_availability(info.context.actor, id, is_available))

    @strawberry.mutation(description="ADMIN or that DOCTOR; regenerates future generated slots.")
    async def set_schedule(
        self, info: Info, doctor_id: strawberry.ID, input: ScheduleInput
    ) -> ScheduleChange:
        result = await schedules.set_schedule(info.context.actor, doctor_id, input.fields())
        return ScheduleChange.from_result(result)

    @strawberry.mutation(description="No ranges: a day off.")
    async def set_date_override(
        self,
        info: Info,
        doctor_id: strawberry.ID,
        date: date,
        ranges: list[TimeRangeInput],
        reason: str | None = None,
    ) -> ScheduleChange:
        result = await schedules.set_date_override(
            info.context.actor, doctor_id, date, [r.value() for r in ranges], reason
        )
        return ScheduleChange.from_result(result)

    @strawberry.mutation
    async def clear_date_override(
        self, info: Info, doctor_id: strawberry.ID, date: date
    ) -> ScheduleChange:
        result = await schedules.clear_date_override(info.context.actor, doctor_id, date)
        return ScheduleChange.from_result(result)

"""Booking: locks, appointments and their status, emergencies, and their live events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date
from typing import Annotated

import strawberry

from app.domain import emergencies
from app.domain.booking import appointments, locks, rescheduling, status_changes
from app.domain.booking import bookings as booking
from app.domain.booking.locks import my_locks
from app.domain.paging import PageRequest
from app.domain.visibility import (
    appointment_listener,
    emergency_listener,
    missed_events_listener,
)
from app.events.messages import AppointmentChanged, EmergencyRaised, Resync
from app.resolvers.streams import events_for
from app.schema.booking.inputs import BookAppointmentInput, EmergencyRequestInput
from app.schema.booking.types import (
    Appointment,
    AppointmentConnection,
    AppointmentEdge,
    AppointmentEvent,
    EmergencyRequest,
    EventsMissed,
)
from app.schema.catalog.types import Slot
from app.schema.context import Info
from app.schema.enums import AppointmentStatus
from app.schema.paging import page_info
from app.schema.rate_limited import RateLimited

IDEMPOTENCY_KEY = strawberry.argument(
    description="Retrying with a key you already used for this request returns its first result."
)


@strawberry.type
class BookingQuery:
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
            appointments.AppointmentFilter(
                doctor_id=doctor_id, patient_id=patient_id, statuses=status, start=from_, end=to
            ),
            PageRequest(first=50 if first is None else first, after=after),
        )
        edges = [
            AppointmentEdge(cursor=c, node=Appointment.from_doc(a))
            for a, c in zip(page.items, page.cursors, strict=True)
        ]
        return AppointmentConnection(edges=edges, page_info=page_info(page))

    @strawberry.field(description="Its patient, its doctor, or ADMIN.")
    async def appointment(self, info: Info, id: strawberry.ID) -> Appointment | None:
        return Appointment.from_doc(await appointments.get_appointment(info.context.actor, id))


@strawberry.type
class BookingMutation:
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
        placed = await booking.book_appointment(info.context.actor, input.request())
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
            await status_changes.cancel_appointment(info.context.actor, id, reason, idempotency_key)
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
        changed = await status_changes.change_status(
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


@strawberry.type
class BookingSubscription:
    @strawberry.subscription(description="PATIENT: own; DOCTOR: own; ADMIN: all.")
    async def appointment_updates(
        self, info: Info, doctor_id: strawberry.ID | None = None
    ) -> AsyncGenerator[AppointmentEvent]:
        wants = appointment_listener(info.context.actor, doctor_id)
        async for event in events_for(info, wants):
            assert isinstance(event, AppointmentChanged)
            yield AppointmentEvent(
                kind=event.kind,
                appointment=Appointment.from_doc(
                    event.appointment, previous_doctor_id=event.previous_doctor_id
                ),
                at=event.at,
            )

    @strawberry.subscription(description="ADMIN and DOCTOR.")
    async def emergency_requests(self, info: Info) -> AsyncGenerator[EmergencyRequest]:
        wants = await emergency_listener(info.context.actor)
        async for event in events_for(info, wants):
            assert isinstance(event, EmergencyRaised)
            yield EmergencyRequest.from_doc(event.request)

    @strawberry.subscription(
        description="Any signed-in user. Told whenever this server may have missed or delayed "
        "events of the other subscriptions (slotUpdates, appointmentUpdates, emergencyRequests): "
        "re-query what you show."
    )
    async def events_missed(self, info: Info) -> AsyncGenerator[EventsMissed]:
        wants = missed_events_listener(info.context.actor)
        async for event in events_for(info, wants):
            assert isinstance(event, Resync)
            doctor = None if event.doctor_id is None else strawberry.ID(str(event.doctor_id))
            yield EventsMissed(at=event.at, reason=event.reason, doctor_id=doctor)

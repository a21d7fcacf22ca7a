"""Subscription resolvers: each listener gets only the events its caller may see."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import date

import strawberry

from app.core.clock import utcnow
from app.domain.visibility import (
    appointment_listener,
    emergency_listener,
    missed_events_listener,
    slot_listener,
)
from app.events.messages import AppointmentChanged, EmergencyRaised, Event, Resync, SlotChanged
from app.events.publisher import get_hub
from app.resolvers.notifications import NotificationSubscription
from app.schema.context import Info
from app.schema.loaders import Loaders
from app.schema.types import Appointment as AppointmentType
from app.schema.types import AppointmentEvent, EmergencyRequest, EventsMissed, Slot, SlotEvent


async def _events(info: Info, wants: Callable[[Event], bool]) -> AsyncGenerator[Event]:
    """The events this listener may receive.

    Rate limits and token expiry are enforced per subscriber in app/schema/shared_streams.py.
    """
    async with get_hub().subscribe(wants) as subscriber:
        while True:
            event = await subscriber.next()
            if event is not None:
                # Each event reads related records afresh, not from the connection's first look.
                info.context.loaders = Loaders()
                yield event


@strawberry.type
class Subscription(NotificationSubscription):
    @strawberry.subscription
    async def slot_updates(
        self,
        info: Info,
        doctor_id: strawberry.ID | None = None,
        specialty_id: strawberry.ID | None = None,
        date: date | None = None,
    ) -> AsyncGenerator[SlotEvent]:
        wants = slot_listener(
            info.context.actor, doctor_id, specialty_id, date.isoformat() if date else None
        )
        async for event in _events(info, wants):
            assert isinstance(event, SlotChanged)
            yield SlotEvent(
                kind=event.kind, slot=Slot.from_doc(event.slot, now=utcnow()), at=event.at
            )

    @strawberry.subscription(description="PATIENT: own; DOCTOR: own; ADMIN: all.")
    async def appointment_updates(
        self, info: Info, doctor_id: strawberry.ID | None = None
    ) -> AsyncGenerator[AppointmentEvent]:
        wants = appointment_listener(info.context.actor, doctor_id)
        async for event in _events(info, wants):
            assert isinstance(event, AppointmentChanged)
            yield AppointmentEvent(
                kind=event.kind,
                appointment=AppointmentType.from_doc(
                    event.appointment, previous_doctor_id=event.previous_doctor_id
                ),
                at=event.at,
            )

    @strawberry.subscription(description="ADMIN and DOCTOR.")
    async def emergency_requests(self, info: Info) -> AsyncGenerator[EmergencyRequest]:
        wants = await emergency_listener(info.context.actor)
        async for event in _events(info, wants):
            assert isinstance(event, EmergencyRaised)
            yield EmergencyRequest.from_doc(event.request)

    @strawberry.subscription(
        description="Any signed-in user. Told whenever this server may have missed or delayed "
        "events of the other subscriptions (slotUpdates, appointmentUpdates, emergencyRequests): "
        "re-query what you show."
    )
    async def events_missed(self, info: Info) -> AsyncGenerator[EventsMissed]:
        wants = missed_events_listener(info.context.actor)
        async for event in _events(info, wants):
            assert isinstance(event, Resync)
            yield EventsMissed(at=event.at, reason=event.reason)

"""Subscription resolvers: filter before anything is sent, stop when the token expires."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import date

import strawberry

from app import rate_limits
from app.domain.actor import still_valid
from app.domain.clock import utcnow
from app.domain.errors import Unauthenticated
from app.domain.visibility import appointment_listener, emergency_listener, slot_listener
from app.events.messages import AppointmentChanged, EmergencyRaised, Event, SlotChanged
from app.events.publisher import get_hub
from app.schema.context import Info
from app.schema.loaders import Loaders
from app.schema.rate_limited import caller_key
from app.schema.types import Appointment as AppointmentType
from app.schema.types import AppointmentEvent, EmergencyRequest, Slot, SlotEvent

IDLE_CHECK_SECONDS = 5.0


async def _events(info: Info, wants: Callable[[Event], bool]) -> AsyncGenerator[Event]:
    """This connection's share of the event stream, ended when its access token expires."""
    actor = info.context.actor
    await rate_limits.hit("ws", caller_key(info.context))
    async with get_hub().subscribe(wants) as subscriber:
        while True:
            timeout = IDLE_CHECK_SECONDS
            if actor is not None and actor.expires_at is not None:
                timeout = max(0.05, min(timeout, (actor.expires_at - utcnow()).total_seconds()))
            event = await subscriber.next(timeout)
            if not still_valid(actor):
                raise Unauthenticated("Access token expired; reconnect with a fresh token")
            if event is not None:
                # Each event reads related records afresh, not from the connection's first look.
                info.context.loaders = Loaders()
                yield event


@strawberry.type
class Subscription:
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
                appointment=AppointmentType.from_doc(event.appointment),
                at=event.at,
            )

    @strawberry.subscription(description="ADMIN and DOCTOR.")
    async def emergency_requests(self, info: Info) -> AsyncGenerator[EmergencyRequest]:
        wants = await emergency_listener(info.context.actor)
        async for event in _events(info, wants):
            assert isinstance(event, EmergencyRaised)
            yield EmergencyRequest.from_doc(event.request)

"""Slots and working hours: reading every slot, slots by hand, schedules, and slot events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date
from typing import Annotated

import strawberry

from app.core.clock import utcnow
from app.domain.scheduling import schedules
from app.domain.slots import management as slots
from app.domain.visibility import slot_listener
from app.events.messages import SlotChanged
from app.resolvers.streams import events_for
from app.schema.catalog.types import Slot
from app.schema.context import Info
from app.schema.scheduling.inputs import ScheduleInput, SlotInput, TimeRangeInput
from app.schema.scheduling.types import ScheduleChange, SlotEvent


@strawberry.type
class SchedulingQuery:
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


@strawberry.type
class SchedulingMutation:
    @strawberry.mutation
    async def create_slot(self, info: Info, doctor_id: strawberry.ID, input: SlotInput) -> Slot:
        created = await slots.create_slot(info.context.actor, doctor_id, input.fields())
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


@strawberry.type
class SchedulingSubscription:
    @strawberry.subscription
    async def slot_updates(
        self,
        info: Info,
        doctor_id: strawberry.ID | None = None,
        specialty_id: strawberry.ID | None = None,
        date: date | None = None,
    ) -> AsyncGenerator[SlotEvent]:
        listener = slot_listener(
            info.context.actor, doctor_id, specialty_id, date.isoformat() if date else None
        )
        async for event in events_for(info, listener.wants):
            assert isinstance(event, SlotChanged)
            if not await listener.confirms(event):
                continue
            yield SlotEvent(
                kind=event.kind, slot=Slot.from_doc(event.slot, now=utcnow()), at=event.at
            )

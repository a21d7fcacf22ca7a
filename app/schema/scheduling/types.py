"""What changes to slots and schedules answer: a schedule change, a slot event."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry

from app.domain.scheduling.regeneration_steps import ScheduleChangeResult
from app.schema.booking.types import Appointment
from app.schema.catalog.types import Slot
from app.schema.enums import SlotEventKind


@strawberry.type
class ScheduleChange:
    slots_added: int
    slots_removed: int
    conflicts: list[Appointment] = strawberry.field(
        description="Active appointments now outside working hours; never cancelled."
    )
    horizon_end: date = strawberry.field(description="Bookable slots exist through this date.")

    @classmethod
    def from_result(cls, result: ScheduleChangeResult) -> Self:
        assert result.horizon_end is not None
        return cls(
            slots_added=result.slots_added,
            slots_removed=result.slots_removed,
            conflicts=[Appointment.from_doc(a) for a in result.conflicts],
            horizon_end=result.horizon_end,
        )


@strawberry.type
class SlotEvent:
    kind: SlotEventKind
    slot: Slot
    at: datetime

"""Inputs of working hours and of slots made by hand."""

from __future__ import annotations

from datetime import date

import strawberry

from app.domain.scheduling.schedule_rules import ScheduleFields
from app.domain.slots.management import SlotFields
from app.models import TimeRange, WeeklyHours
from app.schema.enums import Weekday


@strawberry.input
class TimeRangeInput:
    start: str
    end: str

    def value(self) -> TimeRange:
        return TimeRange(start=self.start, end=self.end)


@strawberry.input
class WeeklyHoursInput:
    weekday: Weekday
    ranges: list[TimeRangeInput]


@strawberry.input
class ScheduleInput:
    slot_minutes: int
    buffer_minutes: int | None = 0
    weekly: list[WeeklyHoursInput]
    valid_from: date | None = strawberry.field(default=None, description="Defaults to today.")
    valid_until: date | None = None

    def fields(self) -> ScheduleFields:
        return ScheduleFields(
            slot_minutes=self.slot_minutes,
            buffer_minutes=self.buffer_minutes,
            weekly=[
                WeeklyHours(weekday=h.weekday, ranges=[r.value() for r in h.ranges])
                for h in self.weekly
            ],
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


@strawberry.input
class SlotInput:
    date: date
    start_time: str
    end_time: str
    specialty_id: strawberry.ID | None = None
    duration_minutes: int | None = None

    def fields(self) -> SlotFields:
        return SlotFields(
            date=self.date,
            start_time=self.start_time,
            end_time=self.end_time,
            specialty_id=self.specialty_id,
            duration_minutes=self.duration_minutes,
        )

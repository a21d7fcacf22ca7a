"""A doctor's working hours: its weekly schedule and its date overrides."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry

from app.models import DateOverride as DateOverrideDoc
from app.models import Schedule as ScheduleDoc
from app.models import TimeRange as TimeRangeDoc
from app.schema.enums import Weekday


@strawberry.type
class TimeRange:
    start: str
    end: str

    @classmethod
    def from_doc(cls, doc: TimeRangeDoc) -> Self:
        return cls(start=doc.start, end=doc.end)


@strawberry.type
class WeeklyHours:
    weekday: Weekday
    ranges: list[TimeRange]


@strawberry.type(description="A doctor's recurring working hours, in its timezone.")
class Schedule:
    slot_minutes: int
    buffer_minutes: int
    weekly: list[WeeklyHours]
    valid_from: date
    valid_until: date | None
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: ScheduleDoc) -> Self:
        return cls(
            slot_minutes=doc.slot_minutes,
            buffer_minutes=doc.buffer_minutes,
            weekly=[
                WeeklyHours(
                    weekday=hours.weekday, ranges=[TimeRange.from_doc(r) for r in hours.ranges]
                )
                for hours in doc.weekly
            ],
            valid_from=date.fromisoformat(doc.valid_from),
            valid_until=date.fromisoformat(doc.valid_until) if doc.valid_until else None,
            updated_at=doc.updated_at,
        )


@strawberry.type(description="A date whose hours replace the weekly ones; no ranges: a day off.")
class DateOverride:
    date: date
    ranges: list[TimeRange]
    reason: str | None

    @classmethod
    def from_doc(cls, doc: DateOverrideDoc) -> Self:
        return cls(
            date=date.fromisoformat(doc.date),
            ranges=[TimeRange.from_doc(r) for r in doc.ranges],
            reason=doc.reason,
        )

"""What a schedule or a date override may say; every refusal names its input field."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.core.errors import BadUserInput
from app.domain import validation
from app.models import Schedule, TimeRange, Weekday, WeeklyHours

SLOT_MINUTES_MIN = 5
SLOT_MINUTES_MAX = 480
BUFFER_MINUTES_MAX = 240
MAX_RANGES_PER_DAY = 24
# Far enough for any real plan, near enough that no date arithmetic can overflow.
SCHEDULE_DATES_SPAN = timedelta(days=5 * 366)
OVERRIDE_DAYS_AHEAD = timedelta(days=2 * 366)
OVERRIDE_REASON_MAX = 500


@dataclass
class ScheduleFields:
    """A schedule as asked for, before any check: what setSchedule receives."""

    slot_minutes: int
    weekly: list[WeeklyHours]
    buffer_minutes: int | None = 0
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class Minutes:
    """A range as minutes since local midnight; end may be 1440 ("24:00")."""

    start: int
    end: int


@dataclass
class CheckedOverride:
    day: date
    ranges: list[TimeRange] = field(default_factory=list)
    reason: str | None = None


def range_minutes(ranges: Iterable[TimeRange]) -> list[Minutes]:
    """Already checked ranges as minutes, in stored order."""
    return [
        Minutes(
            validation.minute_of_day(r.start, "start"),
            validation.minute_of_day(r.end, "end", end_of_day_allowed=True),
        )
        for r in ranges
    ]


def checked_ranges(ranges: Sequence[TimeRange]) -> list[TimeRange]:
    """One day's ranges: strict "HH:MM", start before end, no overlap; returned in order."""
    if len(ranges) > MAX_RANGES_PER_DAY:
        raise BadUserInput(f"a day may have at most {MAX_RANGES_PER_DAY} ranges", field="ranges")
    parsed: list[tuple[Minutes, TimeRange]] = []
    for given in ranges:
        start = validation.minute_of_day(given.start, "start")
        end = validation.minute_of_day(given.end, "end", end_of_day_allowed=True)
        if start >= end:
            raise BadUserInput("a range's end must be after its start", field="end")
        parsed.append((Minutes(start, end), TimeRange(start=given.start, end=given.end)))
    parsed.sort(key=lambda item: item[0].start)
    for (earlier, _), (later, _) in itertools.pairwise(parsed):
        if later.start < earlier.end:
            raise BadUserInput("ranges of one day must not overlap", field="ranges")
    return [kept for _, kept in parsed]


def _within_span(day: date, today: date, field_name: str) -> date:
    if abs(day - today) > SCHEDULE_DATES_SPAN:
        raise BadUserInput(f"{field_name} must be within 5 years of today", field=field_name)
    return day


def checked_schedule(fields: ScheduleFields, today: date, now: datetime) -> Schedule:
    """The schedule to store; `today` is the doctor's date, the default validFrom."""
    if not SLOT_MINUTES_MIN <= fields.slot_minutes <= SLOT_MINUTES_MAX:
        raise BadUserInput(
            f"slotMinutes must be {SLOT_MINUTES_MIN} to {SLOT_MINUTES_MAX}", field="slotMinutes"
        )
    buffer = fields.buffer_minutes or 0
    if not 0 <= buffer <= BUFFER_MINUTES_MAX:
        raise BadUserInput(
            f"bufferMinutes must be 0 to {BUFFER_MINUTES_MAX}", field="bufferMinutes"
        )
    seen: set[Weekday] = set()
    weekly: list[WeeklyHours] = []
    for hours in fields.weekly:
        if hours.weekday in seen:
            raise BadUserInput(f"{hours.weekday} is listed twice", field="weekday")
        seen.add(hours.weekday)
        weekly.append(WeeklyHours(weekday=hours.weekday, ranges=checked_ranges(hours.ranges)))
    weekly.sort(key=lambda h: list(Weekday).index(h.weekday))
    valid_from = _within_span(fields.valid_from or today, today, "validFrom")
    valid_until = fields.valid_until
    if valid_until is not None:
        _within_span(valid_until, today, "validUntil")
        if valid_until < valid_from:
            raise BadUserInput("validUntil must not be before validFrom", field="validUntil")
    return Schedule(
        slot_minutes=fields.slot_minutes,
        buffer_minutes=buffer,
        weekly=weekly,
        valid_from=valid_from.isoformat(),
        valid_until=valid_until.isoformat() if valid_until else None,
        updated_at=now,
    )


def checked_override_date(day: date, today: date) -> date:
    """An override is for a date from today (doctor's zone) to about two years ahead."""
    if day < today:
        raise BadUserInput("an override's date must not be in the past", field="date")
    if day - today > OVERRIDE_DAYS_AHEAD:
        raise BadUserInput("an override's date must be within two years", field="date")
    return day


def checked_override(
    day: date, ranges: Sequence[TimeRange], reason: str | None, today: date
) -> CheckedOverride:
    return CheckedOverride(
        day=checked_override_date(day, today),
        ranges=checked_ranges(ranges),
        reason=validation.optional_text(reason, "reason", OVERRIDE_REASON_MAX),
    )

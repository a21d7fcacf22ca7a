"""Slots a schedule yields over some dates: pure wall-clock arithmetic in the doctor's zone.

A local time a DST change skips yields no slot; one it repeats yields its first occurrence
(fold=0); every slot lasts `slot_minutes` of real time, and no two overlap in real time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.scheduling.schedule_rules import Minutes, range_minutes
from app.domain.validation import END_OF_DAY
from app.models import Schedule, TimeRange, Weekday

WEEKDAYS = list(Weekday)


@dataclass(frozen=True)
class PlannedSlot:
    date: date
    start_time: str  # "HH:MM", doctor's zone
    end_time: str  # "HH:MM" of ends_at in the doctor's zone; "24:00" for the next midnight
    starts_at: datetime  # UTC, whole milliseconds
    ends_at: datetime


def day_ranges(
    schedule: Schedule, overrides: Mapping[date, Sequence[TimeRange]], day: date
) -> Sequence[TimeRange]:
    """The working ranges of one date: an override's, else its weekday's, none outside validity."""
    if day.isoformat() < schedule.valid_from or (
        schedule.valid_until is not None and day.isoformat() > schedule.valid_until
    ):
        return []
    if day in overrides:
        return overrides[day]
    weekday = WEEKDAYS[day.weekday()]
    for hours in schedule.weekly:
        if hours.weekday is weekday:
            return hours.ranges
    return []


def _days(first_day: date, last_day: date) -> Iterator[date]:
    for offset in range((last_day - first_day).days + 1):
        yield first_day + timedelta(days=offset)


def _wall(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The local wall time `minute` minutes after `day`'s midnight, first occurrence."""
    return datetime.combine(day, time(0), tzinfo=zone).replace(fold=0) + timedelta(minutes=minute)


def _exists(local: datetime) -> bool:
    """False for a wall time a spring-forward change skips."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def _hhmm(local: datetime, day: date) -> str:
    if local.date() > day and local.hour == 0 and local.minute == 0:
        return END_OF_DAY
    return local.strftime("%H:%M")


def _to_utc(local: datetime) -> datetime:
    moment = local.astimezone(UTC)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def plan_slots(
    schedule: Schedule,
    overrides: Mapping[date, Sequence[TimeRange]],
    zone: str,
    first_day: date,
    last_day: date,
) -> list[PlannedSlot]:
    """Every slot from `first_day` through `last_day` (dates in `zone`), ordered by start."""
    tz = ZoneInfo(zone)
    length = timedelta(minutes=schedule.slot_minutes)
    step = schedule.slot_minutes + schedule.buffer_minutes
    planned: list[PlannedSlot] = []
    for day in _days(first_day, last_day):
        for span in range_minutes(day_ranges(schedule, overrides, day)):
            minute = span.start
            while minute + schedule.slot_minutes <= span.end:
                local = _wall(day, minute, tz)
                minute += step
                if not _exists(local):
                    continue
                starts_at = _to_utc(local)
                if planned and starts_at < planned[-1].ends_at:
                    continue
                ends_at = starts_at + length
                planned.append(
                    PlannedSlot(
                        date=day,
                        start_time=local.strftime("%H:%M"),
                        end_time=_hhmm(ends_at.astimezone(tz), day),
                        starts_at=starts_at,
                        ends_at=ends_at,
                    )
                )
    return planned


def working_intervals(
    schedule: Schedule,
    overrides: Mapping[date, Sequence[TimeRange]],
    zone: str,
    first_day: date,
    last_day: date,
) -> list[tuple[datetime, datetime]]:
    """The real-time spans of working hours, touching spans merged, ordered by start."""
    tz = ZoneInfo(zone)
    spans: list[tuple[datetime, datetime]] = []
    for day in _days(first_day, last_day):
        for span in range_minutes(day_ranges(schedule, overrides, day)):
            spans.append(_real_span(day, span, tz))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _real_span(day: date, span: Minutes, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = _wall(day, span.start, tz)
    end = _wall(day, span.end, tz).replace(fold=1)
    return _to_utc(start), _to_utc(end)

"""Wall-clock schedules across DST changes and unusual offsets, through a server whose horizon
reaches the dates (SCHEDULE_HORIZON_DAYS=366), plus unit checks of the pure generator.

That server has a database of its own on the session's store: on start-up it would
otherwise roll every other test's scheduled doctor out to 366 days.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.domain.scheduling.generator import plan_slots
from app.models import Schedule, TimeRange, Weekday, WeeklyHours
from tests.schedule_helpers import assert_sound, every_day, live_slots, set_schedule, wall
from tests.separate_server import SeparateServer, separate_server


@pytest_asyncio.fixture(scope="module")
async def far(
    http: httpx.AsyncClient, store_uri: str, log_dir: Path
) -> AsyncIterator[SeparateServer]:
    env = {"SCHEDULE_HORIZON_DAYS": "366"}
    async with separate_server(http, store_uri, log_dir, "far", env) as separate:
        yield separate


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _one_day(
    far: SeparateServer, zone: str, when: str, start: str, end: str, minutes: int
) -> list[dict[str, Any]]:
    if not date.today() < date.fromisoformat(when) < date.today() + timedelta(days=365):
        pytest.skip(f"{when} is no longer within the horizon")
    clinic = await far.api.clinic(zone)
    reply = await set_schedule(
        far.api,
        clinic,
        slotMinutes=minutes,
        weekly=every_day((start, end)),
        validFrom=when,
        validUntil=when,
    )
    change = reply.data["setSchedule"]
    slots = await live_slots(far.store, clinic.doctor_id)
    assert change["slotsAdded"] == len(slots) > 0
    assert_sound(slots)
    for slot in slots:
        assert slot["date"] == when
        assert slot["ends_at"] - slot["starts_at"] == timedelta(minutes=minutes)
        # Read back in the zone, each start is its own wall time at its first occurrence.
        assert wall(slot, zone) == (when, slot["start_time"])
    return slots


def _starts(slots: list[dict[str, Any]]) -> list[str]:
    return [s["start_time"] for s in slots]


def _halves(start_hour: int, end_hour: int) -> list[str]:
    return [f"{h:02}:{m:02}" for h in range(start_hour, end_hour) for m in (0, 30)]


async def test_new_york_spring_forward_skips_the_missing_hour(far: SeparateServer) -> None:
    slots = await _one_day(far, "America/New_York", "2027-03-14", "00:00", "05:00", 30)
    assert _starts(slots) == [t for t in _halves(0, 5) if not t.startswith("02:")]
    by_start = {s["start_time"]: s for s in slots}
    assert by_start["01:30"]["starts_at"] == utc("2027-03-14T06:30:00")
    assert by_start["01:30"]["end_time"] == "03:00"  # 30 real minutes later, on the new offset
    assert by_start["03:00"]["starts_at"] == utc("2027-03-14T07:00:00")


async def test_new_york_fall_back_takes_the_first_occurrence_once(
    far: SeparateServer,
) -> None:
    slots = await _one_day(far, "America/New_York", "2027-11-07", "00:00", "04:00", 30)
    assert _starts(slots) == _halves(0, 4)
    by_start = {s["start_time"]: s for s in slots}
    assert by_start["01:00"]["starts_at"] == utc("2027-11-07T05:00:00")  # EDT, first time
    assert by_start["01:30"]["starts_at"] == utc("2027-11-07T05:30:00")
    assert by_start["02:00"]["starts_at"] == utc("2027-11-07T07:00:00")  # EST


async def test_london_changes_on_its_own_dates(far: SeparateServer) -> None:
    spring = await _one_day(far, "Europe/London", "2027-03-28", "00:00", "03:00", 30)
    assert _starts(spring) == ["00:00", "00:30", "02:00", "02:30"]
    assert spring[2]["starts_at"] == utc("2027-03-28T01:00:00")
    autumn = await _one_day(far, "Europe/London", "2027-10-31", "00:00", "03:00", 30)
    assert _starts(autumn) == _halves(0, 3)
    assert {s["start_time"]: s["starts_at"] for s in autumn}["01:00"] == utc("2027-10-31T00:00:00")


async def test_kolkata_half_hour_offset(far: SeparateServer) -> None:
    slots = await _one_day(far, "Asia/Kolkata", "2027-06-01", "09:00", "10:00", 30)
    assert [s["starts_at"] for s in slots] == [
        utc("2027-06-01T03:30:00"),
        utc("2027-06-01T04:00:00"),
    ]


async def test_lord_howe_half_hour_dst_shift(far: SeparateServer) -> None:
    zone = "Australia/Lord_Howe"
    # 2027-04-04 02:00 (+11) goes back to 01:30 (+10:30): 01:30-01:59 happen twice.
    autumn = await _one_day(far, zone, "2027-04-04", "01:00", "03:00", 15)
    quarters = [f"{h:02}:{m:02}" for h in (1, 2) for m in (0, 15, 30, 45)]
    assert _starts(autumn) == quarters
    by_start = {s["start_time"]: s["starts_at"] for s in autumn}
    assert by_start["01:30"] == utc("2027-04-03T14:30:00")  # first occurrence, +11
    assert by_start["02:00"] == utc("2027-04-03T15:30:00")  # +10:30
    # 2027-10-03 02:00 (+10:30) jumps to 02:30 (+11): 02:00-02:29 do not exist.
    spring = await _one_day(far, zone, "2027-10-03", "01:00", "03:00", 15)
    assert _starts(spring) == [t for t in quarters if t not in ("02:00", "02:15")]
    assert {s["start_time"]: s["starts_at"] for s in spring}["02:30"] == utc("2027-10-02T15:30:00")


# --- the pure generator -------------------------------------------------------------------


def _schedule(minutes: int, start: str, end: str, buffer: int = 0) -> Schedule:
    return Schedule(
        slot_minutes=minutes,
        buffer_minutes=buffer,
        weekly=[
            WeeklyHours(weekday=day, ranges=[TimeRange(start=start, end=end)]) for day in Weekday
        ],
        valid_from="2027-01-01",
        updated_at=datetime.now(UTC),
    )


def test_a_long_slot_across_spring_forward_never_overlaps_the_next() -> None:
    day = date(2027, 3, 14)
    planned = plan_slots(_schedule(90, "00:00", "06:00"), {}, "America/New_York", day, day)
    # 01:30 EST + 90 real minutes ends at 04:00 EDT, so the 03:00 slot would overlap: dropped.
    assert [p.start_time for p in planned] == ["00:00", "01:30", "04:30"]
    assert [p.end_time for p in planned] == ["01:30", "04:00", "06:00"]
    for earlier, later in itertools.pairwise(planned):
        assert later.starts_at >= earlier.ends_at


def test_a_range_to_midnight_ends_at_24_00_and_overrides_replace_the_weekday() -> None:
    day = date(2027, 6, 1)
    schedule = _schedule(60, "22:00", "24:00")
    planned = plan_slots(schedule, {}, "Asia/Kolkata", day, day)
    assert [(p.start_time, p.end_time) for p in planned] == [("22:00", "23:00"), ("23:00", "24:00")]
    off = plan_slots(schedule, {day: []}, "Asia/Kolkata", day, day + timedelta(days=1))
    assert [p.date for p in off] == [day + timedelta(days=1)] * 2
    before_validity = plan_slots(schedule, {}, "UTC", date(2026, 12, 31), date(2026, 12, 31))
    assert before_validity == []

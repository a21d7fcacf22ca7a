"""Calls and store checks the schedule tests share."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId

from tests.graphql_client import Api, Clinic, Response

SET_SCHEDULE = """mutation($doctorId: ID!, $input: ScheduleInput!) {
  setSchedule(doctorId: $doctorId, input: $input) {
    slotsAdded slotsRemoved horizonEnd conflicts { id status }
  }
}"""
SET_OVERRIDE = """mutation(
  $doctorId: ID!, $date: Date!, $ranges: [TimeRangeInput!]!, $reason: String
) {
  setDateOverride(doctorId: $doctorId, date: $date, ranges: $ranges, reason: $reason) {
    slotsAdded slotsRemoved horizonEnd conflicts { id status }
  }
}"""
CLEAR_OVERRIDE = """mutation($doctorId: ID!, $date: Date!) {
  clearDateOverride(doctorId: $doctorId, date: $date) {
    slotsAdded slotsRemoved horizonEnd conflicts { id }
  }
}"""
DOCTOR_SCHEDULE = """query($id: ID!, $from: Date!, $to: Date!) {
  doctor(id: $id) {
    schedule {
      slotMinutes bufferMinutes validFrom validUntil updatedAt
      weekly { weekday ranges { start end } }
    }
    dateOverrides(from: $from, to: $to) { date reason ranges { start end } }
  }
}"""
UPDATE_DOCTOR = """mutation($id: ID!, $input: DoctorUpdateInput!) {
  updateDoctor(id: $id, input: $input) { id timezone }
}"""

EVERY_DAY = [
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
]


def hours(*ranges: tuple[str, str]) -> list[dict[str, str]]:
    return [{"start": start, "end": end} for start, end in ranges]


def every_day(*ranges: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"weekday": day, "ranges": hours(*ranges)} for day in EVERY_DAY]


async def set_schedule(
    api: Api, clinic: Clinic, token: str | None = None, **schedule: Any
) -> Response:
    return await api.gql(
        SET_SCHEDULE,
        {"doctorId": clinic.doctor_id, "input": schedule},
        api.admin.token if token is None else token,
    )


async def live_slots(store: Any, doctor_id: str) -> list[dict[str, Any]]:
    found = await store.slots.find(
        {"doctor_id": ObjectId(doctor_id), "is_removed": False}
    ).to_list()
    return sorted(found, key=lambda s: s["starts_at"])


def assert_sound(slots: list[dict[str, Any]]) -> None:
    """No two live slots share a key, and none overlap in real time."""
    keys = Counter(s["slot_key"] for s in slots)
    assert all(n == 1 for n in keys.values()), keys.most_common(3)
    ordered = sorted(slots, key=lambda s: s["starts_at"])
    for earlier, later in itertools.pairwise(ordered):
        assert later["starts_at"] >= earlier["ends_at"], (earlier, later)


def wall(slot: dict[str, Any], zone: str) -> tuple[str, str]:
    """The slot's start read in `zone`: (date, "HH:MM")."""
    local = slot["starts_at"].astimezone(ZoneInfo(zone))
    return local.date().isoformat(), local.strftime("%H:%M")


def today_in(zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()

"""A doctor's recurring working hours and the dates that differ from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import BaseModel, model_validator
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument


class Weekday(StrEnum):
    """In ISO order: `list(Weekday)[date.weekday()]` is that date's weekday."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class TimeRange(BaseModel):
    start: str  # "HH:MM", wall-clock time in the doctor's zone
    end: str  # "HH:MM", or "24:00" for the end of the day


class WeeklyHours(BaseModel):
    weekday: Weekday
    ranges: list[TimeRange]


class Schedule(BaseModel):
    """Stored on the doctor: one schedule per doctor, replaced whole by setSchedule."""

    slot_minutes: int
    buffer_minutes: int = 0
    weekly: list[WeeklyHours]
    valid_from: str  # "YYYY-MM-DD"
    valid_until: str | None = None
    updated_at: datetime


def override_key(doctor_id: PydanticObjectId, day: str) -> str:
    """The single-field unique key of a doctor's override for one date."""
    return f"{doctor_id}|{day}"


class DateOverride(TimestampedDocument):
    """A date whose hours replace the weekly ones; no ranges is a day off."""

    doctor_id: PydanticObjectId
    date: str  # "YYYY-MM-DD" in the doctor's zone
    ranges: list[TimeRange]
    reason: str | None = None
    override_key: str = ""

    @model_validator(mode="after")
    def _key(self) -> DateOverride:
        if not self.override_key:
            self.override_key = override_key(self.doctor_id, self.date)
        return self

    class Settings:
        name = "date_overrides"
        indexes = [
            IndexModel([("override_key", ASCENDING)], unique=True, name="override_key_unique"),
            IndexModel([("doctor_id", ASCENDING), ("date", ASCENDING)]),
        ]

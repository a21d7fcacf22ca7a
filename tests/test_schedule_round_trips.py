"""A schedule change costs the same few store round trips for 7 days as for 60.

Runs the domain in this process against the session's store, counting every command
PyMongo sends while one change runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio
from beanie import PydanticObjectId
from pymongo import monitoring

from app.domain.auth.actor import Actor
from app.domain.scheduling.schedule_rules import ScheduleFields
from app.domain.scheduling.schedules import set_schedule
from app.models import Role, TimeRange, Weekday, WeeklyHours
from app.settings import get_settings
from app.store.connection import connect_store, disconnect_store
from tests.graphql_client import Api
from tests.schedule_helpers import every_day, live_slots
from tests.schedule_helpers import set_schedule as set_schedule_over_http


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.counting = False
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.counting:
            self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@pytest_asyncio.fixture
async def counter(store_uri: str, db_name: str) -> AsyncIterator[CommandCounter]:
    counting = CommandCounter()
    monitoring.register(counting)  # applies to the client connect_store makes next
    await connect_store(store_uri, db_name)
    yield counting
    await disconnect_store()


def _weekly(start: str, end: str) -> list[WeeklyHours]:
    return [WeeklyHours(weekday=d, ranges=[TimeRange(start=start, end=end)]) for d in Weekday]


async def _change_cost(
    api: Api, store: Any, counter: CommandCounter, monkeypatch: pytest.MonkeyPatch, days: int
) -> tuple[list[str], int]:
    clinic = await api.clinic()
    await set_schedule_over_http(api, clinic, slotMinutes=30, weekly=every_day(("09:00", "12:00")))
    monkeypatch.setattr(get_settings(), "schedule_horizon_days", days)
    admin = Actor(user_id=PydanticObjectId(api.admin.id), role=Role.ADMIN)
    fields = ScheduleFields(slot_minutes=30, weekly=_weekly("10:00", "13:00"))
    counter.commands.clear()
    counter.counting = True
    try:
        result = await set_schedule(admin, clinic.doctor_id, fields)
    finally:
        counter.counting = False
    assert result.horizon_end == date.today() + timedelta(days=days)
    assert result.slots_removed > 0 and result.slots_added > 0
    # Only the new hours remain, also past a horizon shorter than the one that made the old.
    new_hours = {"10:00", "10:30", "11:00", "11:30", "12:00", "12:30"}
    assert {s["start_time"] for s in await live_slots(store, clinic.doctor_id)} == new_hours
    return list(counter.commands), result.slots_added


async def test_round_trips_do_not_grow_with_the_horizon(
    api: Api, store: Any, counter: CommandCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    week, week_added = await _change_cost(api, store, counter, monkeypatch, 7)
    season, season_added = await _change_cost(api, store, counter, monkeypatch, 60)
    assert season_added > 5 * week_added
    assert sorted(week) == sorted(season), (week, season)
    assert len(season) <= 12, season

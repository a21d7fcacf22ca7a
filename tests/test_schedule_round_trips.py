"""What a schedule change costs: the same few store round trips for 7 days as for 60, and
its events go out as one Redis batch that still reaches subscribers one by one, in order.

Runs the domain in this process against the session's store and Redis, counting every
command PyMongo sends while one change runs.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio
from beanie import PydanticObjectId
from pymongo import monitoring

from app.core.clock import utcnow
from app.domain.auth.actor import Actor
from app.domain.scheduling.schedule_rules import ScheduleFields
from app.domain.scheduling.schedules import set_schedule
from app.events.broker import RedisBroker
from app.events.hub import Hub
from app.events.messages import SlotChanged, SlotEventKind
from app.models import Role, Slot, TimeRange, Weekday, WeeklyHours
from app.settings import get_settings
from app.store.chunks import CHUNK_SIZE
from app.store.connection import connect_store, disconnect_store
from tests.graphql_client import Api
from tests.schedule_helpers import every_day, live_slots
from tests.schedule_helpers import set_schedule as set_schedule_over_http
from tests.servers import REDIS_URL


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
    # The removal is one update_many per CHUNK_SIZE slot ids (app/store/chunks.py).
    removals = math.ceil(result.slots_removed / CHUNK_SIZE)
    commands = list(counter.commands)
    for _ in range(removals - 1):
        commands.remove("update")
    return commands, result.slots_added


async def test_round_trips_do_not_grow_with_the_horizon(
    api: Api, store: Any, counter: CommandCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same commands for 7 days as for 60, but for one removal per 200 slots removed."""
    week, week_added = await _change_cost(api, store, counter, monkeypatch, 7)
    season, season_added = await _change_cost(api, store, counter, monkeypatch, 60)
    assert season_added > 5 * week_added
    assert sorted(week) == sorted(season), (week, season)
    assert len(season) <= 12, season


async def test_a_thousand_events_go_out_as_one_batch_and_arrive_in_order(
    counter: CommandCounter,
) -> None:
    # Two processes' brokers on one channel: only Redis carries the batch from one to the other.
    channel = f"aayulink-test:batch:{PydanticObjectId()}"
    sender = RedisBroker(Hub(), REDIS_URL, channel)
    hub = Hub(queue_size=2000)
    receiver = RedisBroker(hub, REDIS_URL, channel)
    await sender.start()
    await receiver.start()
    now = utcnow()
    events = [
        SlotChanged(
            kind=SlotEventKind.ADDED,
            slot=Slot(
                doctor_id=PydanticObjectId(),
                specialty_id=PydanticObjectId(),
                starts_at=now + timedelta(minutes=n),
                ends_at=now + timedelta(minutes=n + 1),
                date=now.date().isoformat(),
                start_time="09:00",
                end_time="09:01",
                duration_minutes=1,
            ),
            at=now,
        )
        for n in range(1000)
    ]
    try:
        async with hub.subscribe(lambda _: True) as subscriber:
            await sender.publish_many(events)
            heard = [await subscriber.next(wait_seconds=10) for _ in events]
    finally:
        await sender.close()
        await receiver.close()
    assert [e.slot.starts_at for e in heard if isinstance(e, SlotChanged)] == [
        e.slot.starts_at for e in events
    ]

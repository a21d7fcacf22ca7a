"""Reminders, with time moved rather than waited for: each server of the test runs its clock
ahead (CLOCK_OFFSET_SECONDS, APP_ENV=test only) on one database, as if the clinic's server
had been down and came back hours later."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.graphql_client import CREATE_SLOT, Api, GraphQL, Person
from tests.notification_sinks import MailSink, WebhookReceiver, eventually, smtp_sink
from tests.notifications.conftest import NOTIFY_ENV, patient
from tests.servers import ApiServer

HOUR = 3600
CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"""
PREFERENCES = """mutation($reminders: Boolean) {
  updateNotificationPreferences(reminders: $reminders) { reminders } }"""


@pytest.fixture(scope="module")
def reminder_mail() -> Iterator[tuple[MailSink, int]]:
    with smtp_sink() as found:
        yield found


@pytest.fixture(scope="module")
def reminder_db() -> str:
    return f"aayulink_reminders_{uuid.uuid4().hex[:8]}"


class Clock:
    """Starts the test's API server with its clock some hours ahead, one at a time."""

    def __init__(
        self, store_uri: str, db: str, log_dir: Path, mail_port: int, hooks: WebhookReceiver
    ) -> None:
        self.store_uri, self.db, self.log_dir = store_uri, db, log_dir
        self.env = {
            **NOTIFY_ENV,
            "SMTP_PORT": str(mail_port),
            "WEBHOOK_URLS": hooks.url("/ok"),
            "REMINDER_OFFSETS_MINUTES": "1440,120",
        }
        self.server: ApiServer | None = None

    def at(self, hours_ahead: float) -> ApiServer:
        self.stop()
        env = {**self.env, "CLOCK_OFFSET_SECONDS": str(hours_ahead * HOUR)}
        self.server = ApiServer(self.store_uri, self.db, env=env).start(self.log_dir)
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture(scope="module")
def clock(
    store_uri: str,
    reminder_db: str,
    log_dir: Path,
    reminder_mail: tuple[MailSink, int],
    hooks: WebhookReceiver,
) -> Iterator[Clock]:
    found = Clock(store_uri, reminder_db, log_dir, reminder_mail[1], hooks)
    yield found
    found.stop()


def slot_in(hours: float) -> tuple[str, str, str]:
    """A half-hour slot (UTC doctor) starting on the half hour at least `hours` from now."""
    at = datetime.now(UTC) + timedelta(hours=hours)
    at = at.replace(second=0, microsecond=0) + timedelta(minutes=30 - at.minute % 30)
    if (at.hour, at.minute) == (23, 30):
        at += timedelta(minutes=30)
    end = at + timedelta(minutes=30)
    return at.date().isoformat(), f"{at:%H:%M}", f"{end:%H:%M}"


async def book_in(api: Api, who: Person, hours: float) -> str:
    clinic = await api.clinic()
    day, start, end = slot_in(hours)
    slot = (
        await api.gql(
            CREATE_SLOT,
            {
                "doctorId": clinic.doctor_id,
                "input": {"date": day, "startTime": start, "endTime": end},
            },
            api.admin.token,
        )
    ).data["createSlot"]
    return str((await api.book(slot["id"], who)).data["bookAppointment"]["id"])


def reminders(sink: MailSink, who: Person) -> list[str]:
    return [
        str(m["Subject"]) for m in sink.to(who.email) if str(m["Subject"]).startswith("Reminder")
    ]


async def test_reminders_follow_the_offsets_and_catch_up_after_down_time(
    clock: Clock, reminder_mail: tuple[MailSink, int], http: httpx.AsyncClient
) -> None:
    sink, _ = reminder_mail
    server = clock.at(0)
    api = Api(GraphQL(http, server.url), await Api.login_admin(GraphQL(http, server.url)))
    tomorrow, soon, dropped, quiet = [await patient(api) for _ in range(4)]
    in_a_day = await book_in(api, tomorrow, 25)  # 1440 due in ~1 h, 120 in ~23 h
    await book_in(api, soon, 3)  # 1440 had passed at booking: only 120, in ~1 h
    cancelled = await book_in(api, dropped, 25)
    await api.gql(CANCEL, {"id": cancelled}, dropped.token)
    await book_in(api, quiet, 25)
    assert (await api.gql(PREFERENCES, {"reminders": False}, quiet.token)).data[
        "updateNotificationPreferences"
    ]["reminders"] is False
    await eventually(lambda: sink.to(tomorrow.email) and sink.to(soon.email))
    assert reminders(sink, tomorrow) == reminders(sink, soon) == []

    # Down for two hours: what fell due meanwhile goes out when a server is back.
    clock.at(2.25)
    await eventually(lambda: reminders(sink, tomorrow) and reminders(sink, soon), within=60)
    assert len(reminders(sink, tomorrow)) == 1 and len(reminders(sink, soon)) == 1

    # A day later: the 120-minute reminder of tomorrow's visit; nothing for the one that began.
    clock.at(24)
    await eventually(lambda: len(reminders(sink, tomorrow)) == 2, within=60)
    assert len(reminders(sink, soon)) == 1
    assert reminders(sink, dropped) == [] and reminders(sink, quiet) == []
    assert in_a_day

"""What the notification tests share: a real SMTP sink and webhook receiver, and an API
process (on a database of its own) that delivers to them quickly."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from icalendar import Calendar

from tests import notification_sinks
from tests.graphql_client import REGISTER, Api, Person, future_day, unique
from tests.notification_sinks import MailSink, WebhookReceiver
from tests.separate_server import SeparateServer, Store, separate_server
from tests.servers import ApiServer

SECRET = "webhook-test-secret"
NOTIFY_ENV = {
    "SMTP_HOST": "127.0.0.1",
    "SMTP_STARTTLS": "false",
    "MAIL_FROM": "AayuLink Clinic <clinic@example.com>",
    "WEBHOOK_SECRET": SECRET,
    "NOTIFICATION_RETRY_BASE_SECONDS": "0.2",
    "NOTIFICATION_MAX_ATTEMPTS": "3",
    "NOTIFICATION_POLL_SECONDS": "0.1",
    "CLINIC_TIMEZONE": "UTC",
    "BOOKING_MAX_DAYS_AHEAD": "200",  # the next DST change may be further off than 90 days
}


# The mail sink and webhook receiver fixtures, written once in tests/notification_sinks.py.
mail = notification_sinks.mail
hooks = notification_sinks.hooks


@pytest.fixture(scope="module")
def notify_env(mail: tuple[MailSink, int], hooks: WebhookReceiver) -> dict[str, str]:
    """Quick deliveries to the module's mail sink and to its webhook receiver's /ok."""
    return {**NOTIFY_ENV, "SMTP_PORT": str(mail[1]), "WEBHOOK_URLS": hooks.url("/ok")}


def server_with(name: str, description: str, **overrides: str) -> Any:
    """A module-scoped fixture `name`: an API process of its own, on a database of its own,
    with the notification tests' environment and `overrides`."""

    async def separate(
        http: httpx.AsyncClient, store_uri: str, log_dir: Path, notify_env: dict[str, str]
    ) -> AsyncIterator[SeparateServer]:
        env = {**notify_env, **overrides}
        async with separate_server(http, store_uri, log_dir, name, env) as server:
            yield server

    separate.__doc__ = description
    return pytest_asyncio.fixture(scope="module", name=name)(separate)


notify = server_with("notify", "The notification tests' API process.")


@pytest.fixture(scope="module")
def notify_server(notify: SeparateServer) -> ApiServer:
    return notify.server


@pytest.fixture(scope="module")
def napi(notify: SeparateServer) -> Api:
    return notify.api


@pytest.fixture(scope="module")
def nstore(notify: SeparateServer) -> Store:
    return notify.store


async def patient(api: Api, name: str = "Asha Rao", timezone: str | None = None) -> Person:
    email = f"{unique('patient')}@example.com"
    data = (
        await api.gql(
            REGISTER,
            {
                "input": {
                    "email": email,
                    "password": "patient-password",
                    "name": name,
                    **({"timezone": timezone} if timezone else {}),
                }
            },
        )
    ).data["register"]
    return Person(data["user"]["id"], data["accessToken"], data["refreshToken"], email)


_slot_numbers = itertools.count()


def next_slot() -> tuple[str, str, str]:
    """A day and half hour no earlier call used: one patient's bookings never overlap."""
    n = next(_slot_numbers)
    start = 8 * 60 + 30 * (n % 20)
    return (
        future_day(3 + n // 20),
        f"{start // 60:02d}:{start % 60:02d}",
        (f"{(start + 30) // 60:02d}:{(start + 30) % 60:02d}"),
    )


async def booked(api: Api, who: Person, timezone: str = "UTC") -> str:
    clinic = await api.clinic(timezone)
    day, start, end = next_slot()
    slot = await api.slot(clinic, start, end, day=day)
    return str((await api.book(slot["id"], who)).data["bookAppointment"]["id"])


def parts(message: EmailMessage) -> tuple[str, str, Calendar | None]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    invite = None
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            raw = part.get_payload(decode=True)
            assert isinstance(raw, bytes)
            invite = Calendar.from_ical(raw)
    return str(text.get_content()), str(html.get_content()), invite

"""No notification lost between a change and its outbox rows (the store has no transactions):
each change marks its document as owing them, and a mark its process left is written by the
sender. The store is made to refuse the outbox write (FAULT_AFTER_STEP=notifications, a real
E11000), as a process killed between the two writes would leave it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from bson import ObjectId

from tests.graphql_client import Api
from tests.notification_sinks import MailSink, WebhookReceiver, eventually, until
from tests.notifications.conftest import Store, booked, patient
from tests.separate_server import SeparateServer, separate_server

CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"""
INBOX = """{ myNotifications(first: 20) { edges { node { kind channel status } } } }"""


@pytest_asyncio.fixture(scope="module")
async def faulty(
    http: httpx.AsyncClient, store_uri: str, log_dir: Path, notify_env: dict[str, str]
) -> AsyncIterator[SeparateServer]:
    """A process whose store refuses every outbox write, and soon writes what is left owed."""
    env = {
        **notify_env,
        "FAULT_AFTER_STEP": "notifications",
        "NOTIFICATION_OWED_GRACE_SECONDS": "3",
    }
    async with separate_server(http, store_uri, log_dir, "owed", env) as separate:
        yield separate


async def owed_marks(store: Store, appointment: str) -> dict[str, Any] | None:
    found = await store["appointments"].find_one({"_id": ObjectId(appointment)})
    assert found is not None
    return found.get("notifications_owed")


async def test_a_change_whose_outbox_write_failed_is_notified_anyway_once(
    faulty: SeparateServer, mail: tuple[MailSink, int], hooks: WebhookReceiver
) -> None:
    fapi, fstore = faulty.api, faulty.store
    sink, _ = mail
    who = await patient(fapi)
    appointment = await booked(fapi, who)
    # The outbox write was refused: the booking stands and owes its notifications.
    mark = await owed_marks(fstore, appointment)
    assert mark is not None and (mark["kind"], mark["sequence"]) == ("BOOKED", 0)
    assert "the notifications of 2 change(s) are left owed" in faulty.server.logs()
    [booked_mail] = await eventually(lambda: sink.to(who.email))
    assert booked_mail["Subject"].startswith("Appointment booked")

    async def inbox() -> list[tuple[str, str]]:
        edges = (await fapi.gql(INBOX, {}, who.token)).data["myNotifications"]["edges"]
        return [(e["node"]["kind"], e["node"]["status"]) for e in edges]

    assert await until(inbox) == [("BOOKED", "SENT")]
    assert await until(lambda: _gone(fstore, appointment))
    # A cancel's write fails too: it is owed, then sent, with its own change number.
    cancelled = await fapi.gql(CANCEL, {"id": appointment}, who.token)
    assert cancelled.data["cancelAppointment"]["status"] == "CANCELLED"
    mark = await owed_marks(fstore, appointment)
    assert mark is not None and (mark["kind"], mark["sequence"]) == ("CANCELLED", 1)
    [_, cancel_mail] = await eventually(lambda: sink.to(who.email)[1:] and sink.to(who.email))
    assert cancel_mail["Subject"].startswith("Appointment cancelled")
    assert await until(lambda: _gone(fstore, appointment))
    # Several repair passes later (one every 2 s), still once each.
    await asyncio.sleep(5)
    assert len(sink.to(who.email)) == 2
    assert sorted(await inbox()) == [("BOOKED", "SENT"), ("CANCELLED", "SENT")]
    delivered = [d for d in hooks.at("/ok") if d.payload["appointment"]["id"] == appointment]
    assert sorted(d.payload["kind"] for d in delivered) == ["BOOKED", "CANCELLED"]
    assert len({d.delivery_id for d in delivered}) == 2
    keys = await fstore["notifications"].distinct("key", {"appointment_id": ObjectId(appointment)})
    assert len(keys) == await fstore["notifications"].count_documents(
        {"appointment_id": ObjectId(appointment)}
    )


async def _gone(store: Store, appointment: str) -> bool:
    return await owed_marks(store, appointment) is None


async def test_a_change_written_whole_lets_go_of_its_mark(napi: Api, nstore: Store) -> None:
    """The normal path: the rows stand, and the sender loop unsets the mark in its batch."""
    who = await patient(napi)
    appointment = await booked(napi, who)
    assert await until(lambda: _gone(nstore, appointment))
    rows = await nstore["notifications"].count_documents({"appointment_id": ObjectId(appointment)})
    assert rows >= 2

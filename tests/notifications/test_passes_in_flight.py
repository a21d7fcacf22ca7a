"""The sender prepares its next pass while the previous one sends (app/domain/notifications/
loop.py). With passes of four rows, a burst of bookings goes out in many overlapping passes,
and every email and webhook still arrives exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.graphql_client import Person
from tests.notification_sinks import MailSink, WebhookReceiver, eventually
from tests.notifications.conftest import booked, patient, server_with
from tests.separate_server import SeparateServer

BOOKINGS = 12

small_passes = server_with(
    "small_passes", "Passes of four rows: a burst needs many.", NOTIFICATION_BATCH_SIZE="4"
)


async def test_overlapping_passes_send_each_notification_once(
    small_passes: SeparateServer, mail: tuple[MailSink, int], hooks: WebhookReceiver
) -> None:
    api = small_passes.api
    people: list[Person] = [await patient(api, f"Patient {n}") for n in range(BOOKINGS)]
    appointments = await asyncio.gather(*(booked(api, who) for who in people))

    def all_heard() -> bool:
        hooked = {(d.payload.get("appointment") or {}).get("id") for d in hooks.at("/ok")}
        return all(mail[0].to(who.email) for who in people) and set(appointments) <= hooked

    await eventually(all_heard, within=60)
    await asyncio.sleep(1.0)  # a second sending would have arrived by now
    assert [len(mail[0].to(who.email)) for who in people] == [1] * BOOKINGS
    sent = Counter((d.payload.get("appointment") or {}).get("id") for d in hooks.at("/ok"))
    assert all(sent[a] == 1 for a in appointments), sent
    deliveries = [d.delivery_id for d in hooks.at("/ok")]
    assert len(deliveries) == len(set(deliveries))
    rows = await small_passes.store["notifications"].count_documents({"status": "PENDING"})
    assert rows == 0

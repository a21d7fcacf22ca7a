"""No notification lost without transactions: each change records itself on its document as
owing notifications, in the write it makes anyway, and the sender writes their rows from
those marks. The `holding` process's grace period is an hour, so nothing is written until a
test moves a document's owed time back: what is owed is seen whole before the sender acts,
with no race against it. The `refusing` process's store refuses the rows' write
(FAULT_AFTER_STEP=notifications, a real E11000): the change stands, and stays owed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from tests.graphql_client import Api, Person, unique
from tests.notification_sinks import MailSink, WebhookReceiver, eventually, until
from tests.notifications.conftest import Store, booked, next_slot, patient, server_with
from tests.separate_server import SeparateServer
from tests.servers import ADMIN_EMAIL

CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!) {
  rescheduleAppointment(id: $id, slotId: $slotId) { id startsAt } }"""
DOCTOR = """query($id: ID!) { appointment(id: $id) { doctor { id } } }"""
CREATE_SLOT = """mutation($doctorId: ID!, $input: SlotInput!) {
  createSlot(doctorId: $doctorId, input: $input) { id } }"""
EMERGENCY = """mutation($input: EmergencyRequestInput!) { sendEmergencyRequest(input: $input) {
  id } }"""
INBOX = """{ myNotifications(first: 20) { edges { node { kind channel status } } } }"""
APPOINTMENTS = "appointments"
EMERGENCIES = "emergency_requests"


holding = server_with(
    "holding",
    "A process that writes what a change owes only once the change is an hour old.",
    NOTIFICATION_OWED_GRACE_SECONDS="3600",
)
refusing = server_with(
    "refusing",
    "A process whose store refuses every write of notification rows.",
    FAULT_AFTER_STEP="notifications",
)


async def stored_owed(store: Store, collection: str, document: str) -> dict[str, Any] | None:
    found = await store[collection].find_one({"_id": ObjectId(document)})
    assert found is not None
    return found.get("notifications_owed")


async def owed_changes(store: Store, collection: str, document: str) -> list[tuple[str, int]]:
    """The changes a document owes notifications for, as (kind, change number)."""
    owed = await stored_owed(store, collection, document)
    return [(c["kind"], c["sequence"]) for c in (owed or {}).get("changes", [])]


async def died_long_ago(store: Store, collection: str, document: str) -> None:
    """As though the process that made the changes died two hours ago: due for the repair."""
    await store[collection].update_one(
        {"_id": ObjectId(document)},
        {"$set": {"notifications_owed.at": datetime.now(UTC) - timedelta(hours=2)}},
    )


async def _gone(store: Store, collection: str, document: str) -> bool:
    return await stored_owed(store, collection, document) is None


async def settled(store: Store, collection: str, document: str) -> None:
    assert await until(lambda: _gone(store, collection, document))


async def inbox(api: Api, who: Person) -> list[tuple[str, str]]:
    edges = (await api.gql(INBOX, {}, who.token)).data["myNotifications"]["edges"]
    return sorted((e["node"]["kind"], e["node"]["status"]) for e in edges)


def subjects(sink: MailSink, address: str) -> list[str]:
    """What each email to `address` says happened: its subject's first two words."""
    return sorted(" ".join(str(m["Subject"]).split()[:2]).rstrip(":") for m in sink.to(address))


def _about(payload: dict[str, Any], what: str) -> str | None:
    """The id of the appointment or emergency a webhook payload tells of (the other is null)."""
    return (payload.get(what) or {}).get("id")


async def delivered_once_each(
    store: Store, hooks: WebhookReceiver, appointment: str, kinds: list[str]
) -> None:
    """Each kind reached the webhook once, with a delivery id of its own, and no row twice."""
    delivered = [d for d in hooks.at("/ok") if _about(d.payload, "appointment") == appointment]
    assert sorted(d.payload["kind"] for d in delivered) == kinds
    assert len({d.delivery_id for d in delivered}) == len(kinds)
    rows = store["notifications"]
    keys = await rows.distinct("key", {"appointment_id": ObjectId(appointment)})
    assert len(keys) == await rows.count_documents({"appointment_id": ObjectId(appointment)})


async def test_a_change_is_owed_on_its_document_until_its_notifications_are_written_once(
    holding: SeparateServer, mail: tuple[MailSink, int], hooks: WebhookReceiver
) -> None:
    fapi, fstore = holding.api, holding.store
    sink, _ = mail
    who = await patient(fapi)
    appointment = await booked(fapi, who)
    # The booking stands and owes its notifications, recorded in its own write.
    assert await owed_changes(fstore, APPOINTMENTS, appointment) == [("BOOKED", 0)]
    assert sink.to(who.email) == []
    await died_long_ago(fstore, APPOINTMENTS, appointment)
    [booked_mail] = await eventually(lambda: sink.to(who.email))
    assert booked_mail["Subject"].startswith("Appointment booked")
    assert await until(lambda: _sent(fapi, who, 1)) == [("BOOKED", "SENT")]
    await settled(fstore, APPOINTMENTS, appointment)
    # A cancel is owed too, then sent, with its own change number.
    cancelled = await fapi.gql(CANCEL, {"id": appointment}, who.token)
    assert cancelled.data["cancelAppointment"]["status"] == "CANCELLED"
    assert await owed_changes(fstore, APPOINTMENTS, appointment) == [("CANCELLED", 1)]
    await died_long_ago(fstore, APPOINTMENTS, appointment)
    [_, cancel_mail] = await eventually(lambda: sink.to(who.email)[1:] and sink.to(who.email))
    assert cancel_mail["Subject"].startswith("Appointment cancelled")
    await settled(fstore, APPOINTMENTS, appointment)
    # Several repair passes later (one every 2 s), still once each.
    await asyncio.sleep(5)
    assert len(sink.to(who.email)) == 2
    assert await inbox(fapi, who) == [("BOOKED", "SENT"), ("CANCELLED", "SENT")]
    await delivered_once_each(fstore, hooks, appointment, ["BOOKED", "CANCELLED"])


async def _sent(api: Api, who: Person, count: int) -> list[tuple[str, str]] | None:
    found = await inbox(api, who)
    return found if len(found) == count and all(s == "SENT" for _, s in found) else None


async def test_two_changes_owed_at_once_are_each_notified_once(
    holding: SeparateServer, mail: tuple[MailSink, int], hooks: WebhookReceiver
) -> None:
    """Booked, then moved, both before any repair: the second change keeps the first."""
    fapi, fstore = holding.api, holding.store
    sink, _ = mail
    who = await patient(fapi)
    appointment = await booked(fapi, who)
    doctor = (await fapi.gql(DOCTOR, {"id": appointment}, who.token)).data["appointment"]
    day, start, end = next_slot()
    target = (
        await fapi.gql(
            CREATE_SLOT,
            {
                "doctorId": doctor["doctor"]["id"],
                "input": {"date": day, "startTime": start, "endTime": end},
            },
            fapi.admin.token,
        )
    ).data["createSlot"]
    moved = await fapi.gql(RESCHEDULE, {"id": appointment, "slotId": target["id"]}, who.token)
    assert moved.data["rescheduleAppointment"]["id"] == appointment
    assert await owed_changes(fstore, APPOINTMENTS, appointment) == [
        ("BOOKED", 0),
        ("RESCHEDULED", 1),
    ]
    assert sink.to(who.email) == []
    await died_long_ago(fstore, APPOINTMENTS, appointment)
    await eventually(lambda: len(sink.to(who.email)) == 2)
    await settled(fstore, APPOINTMENTS, appointment)
    await asyncio.sleep(5)  # several repair passes
    assert subjects(sink, who.email) == ["Appointment booked", "Appointment moved"]
    assert await inbox(fapi, who) == [("BOOKED", "SENT"), ("RESCHEDULED", "SENT")]
    await delivered_once_each(fstore, hooks, appointment, ["BOOKED", "RESCHEDULED"])


async def test_an_emergency_is_owed_until_notified_once(
    holding: SeparateServer, mail: tuple[MailSink, int], hooks: WebhookReceiver
) -> None:
    fapi, fstore = holding.api, holding.store
    sink, _ = mail
    name = unique("Meera ")
    who = await patient(fapi, name=name)
    sent = await fapi.gql(EMERGENCY, {"input": {"message": "Chest pain since noon"}}, who.token)
    emergency = sent.data["sendEmergencyRequest"]["id"]
    # Recorded with the request itself, in the same write.
    assert await owed_changes(fstore, EMERGENCIES, emergency) == [("EMERGENCY", 0)]

    def to_admin() -> list[Any]:
        return [m for m in sink.to(ADMIN_EMAIL) if name in str(m["Subject"])]

    assert to_admin() == []
    await died_long_ago(fstore, EMERGENCIES, emergency)
    [alert] = await eventually(to_admin)
    assert "Chest pain since noon" in str(alert.get_body(preferencelist=("plain",)))
    await settled(fstore, EMERGENCIES, emergency)
    await asyncio.sleep(5)  # several repair passes
    assert len(to_admin()) == 1
    delivered = [d for d in hooks.at("/ok") if _about(d.payload, "emergency") == emergency]
    assert [d.payload["kind"] for d in delivered] == ["EMERGENCY"]
    rows = fstore["notifications"]
    keys = await rows.distinct("key", {"emergency_id": ObjectId(emergency)})
    assert len(keys) == await rows.count_documents({"emergency_id": ObjectId(emergency)}) > 0


async def test_a_single_mark_of_the_older_shape_is_still_repaired(
    holding: SeparateServer, mail: tuple[MailSink, int], hooks: WebhookReceiver
) -> None:
    """Stored before a document could owe two changes: one change's fields, no `changes`.
    Repaired alone, and with a change pushed onto it since."""
    fapi, fstore = holding.api, holding.store
    sink, _ = mail
    alone, beside = await patient(fapi), await patient(fapi)
    first, second = await booked(fapi, alone), await booked(fapi, beside)
    for appointment, at in (
        (first, datetime.now(UTC) - timedelta(hours=2)),
        (second, datetime.now(UTC)),
    ):
        single = {
            "sequence": 0,
            "kind": "BOOKED",
            "at": at,
            "previous_doctor_id": None,
            "previous_starts_at": None,
        }
        await fstore[APPOINTMENTS].update_one(
            {"_id": ObjectId(appointment)}, {"$set": {"notifications_owed": single}}
        )
    # The alone one is due at once: its booking is sent, and the mark unset.
    [booked_mail] = await eventually(lambda: sink.to(alone.email))
    assert booked_mail["Subject"].startswith("Appointment booked")
    await settled(fstore, APPOINTMENTS, first)
    # The other is cancelled first (not yet due): the cancel is pushed beside it.
    cancelled = await fapi.gql(CANCEL, {"id": second}, beside.token)
    assert cancelled.data["cancelAppointment"]["status"] == "CANCELLED"
    both = await stored_owed(fstore, APPOINTMENTS, second)
    assert both is not None and (both["kind"], both["sequence"]) == ("BOOKED", 0)
    assert [(c["kind"], c["sequence"]) for c in both["changes"]] == [("CANCELLED", 1)]
    await died_long_ago(fstore, APPOINTMENTS, second)
    await eventually(lambda: len(sink.to(beside.email)) == 2)
    await settled(fstore, APPOINTMENTS, second)
    await asyncio.sleep(5)  # several repair passes
    assert subjects(sink, alone.email) == ["Appointment booked"]
    assert subjects(sink, beside.email) == ["Appointment booked", "Appointment cancelled"]
    await delivered_once_each(fstore, hooks, first, ["BOOKED"])
    await delivered_once_each(fstore, hooks, second, ["BOOKED", "CANCELLED"])


async def test_a_refused_notifications_write_leaves_the_change_owed(
    refusing: SeparateServer, mail: tuple[MailSink, int]
) -> None:
    """The store refuses the rows: the booking still answers, and its mark stays for the
    sender's next pass; nothing is sent without its row."""
    sink, _ = mail
    who = await patient(refusing.api)
    appointment = await booked(refusing.api, who)
    assert await eventually(lambda: "notification pass failed" in refusing.server.logs())
    await asyncio.sleep(1)  # more passes, all refused
    assert await owed_changes(refusing.store, APPOINTMENTS, appointment) == [("BOOKED", 0)]
    assert sink.to(who.email) == []
    rows = refusing.store["notifications"]
    assert await rows.count_documents({"appointment_id": ObjectId(appointment)}) == 0


async def test_a_change_written_whole_lets_go_of_its_mark(napi: Api, nstore: Store) -> None:
    """The normal path: the sender writes the rows and unsets the mark in its batch."""
    who = await patient(napi)
    appointment = await booked(napi, who)
    assert await until(lambda: _gone(nstore, APPOINTMENTS, appointment))
    rows = await nstore["notifications"].count_documents({"appointment_id": ObjectId(appointment)})
    assert rows >= 2

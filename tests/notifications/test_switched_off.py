"""NOTIFICATIONS_ENABLED=false: a booking, its move and its cancel write no notification,
owe none, and leave the inbox empty, though SMTP and a webhook are configured (a staging
copy of a clinic's data must never email its patients)."""

from __future__ import annotations

from bson import ObjectId

from tests.graphql_client import Api
from tests.notifications.conftest import next_slot, patient, server_with
from tests.separate_server import SeparateServer

MY_NOTIFICATIONS = "{ myNotifications { unread edges { node { id } } } }"
CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!) {
  rescheduleAppointment(id: $id, slotId: $slotId) { id }
}"""


quiet = server_with(
    "quiet", "A process with notifications switched off.", NOTIFICATIONS_ENABLED="false"
)


async def test_changes_write_and_owe_no_notification(quiet: SeparateServer) -> None:
    api: Api = quiet.api
    who = await patient(api)
    clinic = await api.clinic()
    slots = []
    for _ in range(2):
        day, start, end = next_slot()
        slots.append(await api.slot(clinic, start, end, day=day))
    first, other = slots
    booking = await api.book(first["id"], who)
    appointment = str(booking.data["bookAppointment"]["id"])
    stored = await quiet.store.appointments.find_one({"_id": ObjectId(appointment)})
    assert stored is not None and stored.get("notifications_owed") is None
    moved = await api.gql(RESCHEDULE, {"id": appointment, "slotId": other["id"]}, who.token)
    assert moved.data["rescheduleAppointment"]["id"] == appointment
    cancelled = await api.gql(CANCEL, {"id": appointment}, who.token)
    assert cancelled.data["cancelAppointment"]["status"] == "CANCELLED"

    stored = await quiet.store.appointments.find_one({"_id": ObjectId(appointment)})
    assert stored is not None and stored.get("notifications_owed") is None
    assert await quiet.store.notifications.count_documents({}) == 0
    inbox = (await api.gql(MY_NOTIFICATIONS, {}, who.token)).data["myNotifications"]
    assert inbox == {"unread": 0, "edges": []}

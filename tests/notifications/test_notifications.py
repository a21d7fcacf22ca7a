"""Notifications end to end: bookings through /graphql, mail received by a real SMTP server
(aiosmtpd), webhooks by a real HTTP receiver, the in-app inbox and its live subscription."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bson import ObjectId

from tests.graphql_client import Api, Person
from tests.notification_sinks import (
    MailSink,
    WebhookReceiver,
    eventually,
    until,
)
from tests.notifications.conftest import SECRET, Store, booked, next_slot, parts, patient
from tests.servers import ApiServer
from tests.subscriptions_client import connect, until_ready

MY_NOTIFICATIONS = """query($unreadOnly: Boolean, $first: Int, $after: String) {
  myNotifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
    unread
    edges { cursor node { id kind channel status subject body readAt lastError
                          appointment { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
MARK_READ = """mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }"""
CANCEL = """mutation($id: ID!, $reason: String) {
  cancelAppointment(id: $id, reason: $reason) { id status }
}"""
PREFERENCES = """mutation($email: Boolean, $reminders: Boolean, $kinds: [NotificationKind!]) {
  updateNotificationPreferences(email: $email, reminders: $reminders, kinds: $kinds) {
    email reminders kinds
  }
}"""
ME = """{ me { id timezone notificationPreferences { email reminders kinds } } }"""
DELIVERIES = """query($status: DeliveryStatus, $channel: NotificationChannel) {
  notificationDeliveries(status: $status, channel: $channel, first: 100) {
    edges { node { id kind channel status attempts lastError } }
  }
}"""
RETRY = """mutation($id: ID!) { retryNotification(id: $id) { id status attempts } }"""


async def test_a_booking_mails_the_patient_once_with_an_invite(
    napi: Api, mail: tuple[MailSink, int]
) -> None:
    sink, _ = mail
    who = await patient(napi)
    appointment = await booked(napi, who)
    [message] = await eventually(lambda: sink.to(who.email))
    assert message["Message-ID"].endswith("@aayulink>")
    assert message["Subject"].startswith("Appointment booked")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/unsubscribe?token=" in message["List-Unsubscribe"]
    assert message["From"] == "AayuLink Clinic <clinic@example.com>"
    text, html, invite = parts(message)
    assert "Asha Rao" in text and "When:" in text
    assert "<strong>Asha Rao</strong>" in html
    assert invite is not None and invite["METHOD"] == "REQUEST"
    [event] = invite.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{appointment}@aayulink"
    assert event.decoded("SEQUENCE") == 0

    async def inbox() -> list[str]:
        notes = (await napi.gql(MY_NOTIFICATIONS, {}, who.token)).data["myNotifications"]
        return [e["node"]["kind"] for e in notes["edges"]]

    assert await until(inbox) == ["BOOKED"]
    assert len(sink.to(who.email)) == 1


async def test_a_name_with_markup_arrives_as_text(napi: Api, mail: tuple[MailSink, int]) -> None:
    sink, _ = mail
    who = await patient(napi, name="<script>alert(1)</script>")
    await booked(napi, who)
    [message] = await eventually(lambda: sink.to(who.email))
    text, html, _ = parts(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in text  # plain text is shown as text anyway


async def test_the_in_app_inbox_counts_and_marks_read(napi: Api) -> None:
    who = await patient(napi)
    other = await patient(napi)
    await booked(napi, who)
    await booked(napi, who)

    async def inbox(person: Person, **variables: Any) -> dict[str, Any]:
        reply = await napi.gql(MY_NOTIFICATIONS, variables, person.token)
        return dict(reply.data["myNotifications"])

    async def both() -> dict[str, Any] | None:
        # Both listed, not only counted: the count is read just after the page, and the
        # sender settles a batch's in-app rows one by one, so it may see one more.
        found = await inbox(who)
        return found if found["unread"] == 2 and len(found["edges"]) == 2 else None

    found = await until(both)
    assert found is not None
    ids = [e["node"]["id"] for e in found["edges"]]
    assert all(e["node"]["channel"] == "IN_APP" for e in found["edges"])
    assert all(e["node"]["lastError"] is None for e in found["edges"])
    # Another user's ids mark nothing.
    assert (await napi.gql(MARK_READ, {"ids": ids}, other.token)).data["markNotificationsRead"] == 0
    assert (await napi.gql(MARK_READ, {"ids": ids[:1]}, who.token)).data[
        "markNotificationsRead"
    ] == 1
    assert (await inbox(who))["unread"] == 1
    unread = await inbox(who, unreadOnly=True)
    assert [e["node"]["id"] for e in unread["edges"]] == ids[1:]
    page = await inbox(who, first=1)
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await inbox(who, first=1, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == ids[1:]


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, "first"), ({"first": 101}, "first"), ({"after": "nope"}, "after")],
)
async def test_inbox_refuses_bad_paging(napi: Api, variables: dict[str, Any], field: str) -> None:
    who = await patient(napi)
    reply = await napi.gql(MY_NOTIFICATIONS, variables, who.token)
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == field


async def test_mark_read_refuses_a_malformed_id(napi: Api) -> None:
    who = await patient(napi)
    reply = await napi.gql(MARK_READ, {"ids": ["not-an-id"]}, who.token)
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "ids"
    assert (await napi.gql(MY_NOTIFICATIONS, {})).code == "UNAUTHENTICATED"


async def test_a_webhook_is_signed_and_each_delivery_arrives_once(
    napi: Api, hooks: WebhookReceiver
) -> None:
    who = await patient(napi)
    appointment = await booked(napi, who)

    def mine() -> list[Any]:
        return [
            d
            for d in hooks.at("/ok")
            if (d.payload.get("appointment") or {}).get("id") == appointment
        ]

    [delivery] = await eventually(mine)
    assert delivery.signed_with(SECRET)
    assert not delivery.signed_with("another-secret")
    payload = delivery.payload
    assert payload["kind"] == "BOOKED" and payload["id"] == delivery.delivery_id
    assert payload["patient"]["email"] == who.email
    ids = [d.delivery_id for d in hooks.at("/ok")]
    assert len(ids) == len(set(ids))


async def test_a_cancel_mails_a_cancel_with_the_same_uid_to_patient_and_doctor(
    napi: Api, mail: tuple[MailSink, int]
) -> None:
    sink, _ = mail
    who = await patient(napi)
    clinic = await napi.clinic()
    day, start, end = next_slot()
    slot = await napi.slot(clinic, start, end, day=day)
    appointment = (await napi.book(slot["id"], who)).data["bookAppointment"]["id"]
    await eventually(lambda: sink.to(who.email))
    cancelled = await napi.gql(CANCEL, {"id": appointment, "reason": "Feeling better"}, who.token)
    assert cancelled.data["cancelAppointment"]["status"] == "CANCELLED"
    messages = await eventually(lambda: sink.to(who.email)[1:])
    cancel = messages[0]
    assert cancel["Subject"].startswith("Appointment cancelled")
    text, _, invite = parts(cancel)
    assert "Reason: Feeling better" in text
    assert invite is not None and invite["METHOD"] == "CANCEL"
    [event] = invite.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{appointment}@aayulink"
    assert event.decoded("SEQUENCE") == 1 and str(event["STATUS"]) == "CANCELLED"
    # The doctor hears of a patient's cancel by email (not of the booking: in-app only).
    [doctor_mail] = await eventually(lambda: sink.to(clinic.doctor_email))
    assert doctor_mail["Subject"].startswith("Appointment cancelled")


async def test_email_off_skips_mail_but_keeps_the_inbox(
    napi: Api, mail: tuple[MailSink, int], nstore: Store
) -> None:
    sink, _ = mail
    who = await patient(napi)
    prefs = await napi.gql(PREFERENCES, {"email": False}, who.token)
    assert prefs.data["updateNotificationPreferences"]["email"] is False
    appointment = await booked(napi, who)
    notes = nstore["notifications"]

    async def settled() -> list[dict[str, Any]]:
        rows = await notes.find(
            {"appointment_id": ObjectId(appointment), "recipient_id": ObjectId(who.id)}
        ).to_list(None)
        return rows if all(r["status"] != "PENDING" for r in rows) else []

    rows = await until(settled)
    statuses = {r["channel"]: r["status"] for r in rows}
    assert statuses == {"EMAIL": "SKIPPED", "IN_APP": "SENT"}
    assert sink.to(who.email) == []


async def test_preferences_refuse_unknown_kinds_and_show_on_me(napi: Api) -> None:
    who = await patient(napi)
    reply = await napi.gql(PREFERENCES, {"kinds": ["NOPE"]}, who.token)
    assert reply.code == "BAD_USER_INPUT"
    chosen = await napi.gql(PREFERENCES, {"kinds": ["CANCELLED"], "reminders": False}, who.token)
    assert chosen.data["updateNotificationPreferences"] == {
        "email": True,
        "reminders": False,
        "kinds": ["CANCELLED"],
    }
    me = (await napi.gql(ME, {}, who.token)).data["me"]
    assert me["notificationPreferences"]["kinds"] == ["CANCELLED"]
    assert me["timezone"] == "UTC"


async def test_one_click_unsubscribe_turns_email_off_and_refuses_forgeries(
    napi: Api, mail: tuple[MailSink, int], http: httpx.AsyncClient
) -> None:
    sink, _ = mail
    who = await patient(napi)
    await booked(napi, who)
    [message] = await eventually(lambda: sink.to(who.email))
    link = str(message["List-Unsubscribe"]).strip("<>")
    base = link.split("/notifications/")[0]
    server = napi.gql.url.removesuffix("/graphql")
    local = link.replace(base, server)
    forged = local[:-3] + ("AAA" if not local.endswith("AAA") else "BBB")
    assert (await http.post(forged, data={"List-Unsubscribe": "One-Click"})).status_code == 400
    assert (await http.post(f"{server}/notifications/unsubscribe")).status_code == 400
    done = await http.post(local, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    me = (await napi.gql(ME, {}, who.token)).data["me"]
    assert me["notificationPreferences"]["email"] is False
    assert (await http.get(local)).status_code == 200  # a repeat changes nothing
    # Turned back on, the old email's link no longer turns it off.
    await napi.gql(PREFERENCES, {"email": True}, who.token)
    assert (await http.post(local)).status_code == 400
    me = (await napi.gql(ME, {}, who.token)).data["me"]
    assert me["notificationPreferences"]["email"] is True


async def test_the_notifications_subscription_reaches_only_its_recipient(
    napi: Api, notify_server: ApiServer
) -> None:
    who = await patient(napi)
    other = await patient(napi)
    query = "subscription { notifications { id kind channel subject body appointment { id } } }"
    probes: set[str] = set()

    def is_probe(data: dict[str, Any]) -> bool:
        return (data["notifications"]["appointment"] or {}).get("id") in probes

    async def probe() -> None:
        for person in (who, other):
            probes.add(await booked(napi, person))

    async with (
        connect(notify_server.ws_url, who.token) as mine,
        connect(notify_server.ws_url, other.token) as theirs,
    ):
        heard = mine.subscribe(query, skip=is_probe)
        not_heard = theirs.subscribe(query, skip=is_probe)
        await until_ready([heard, not_heard], probe, interval=2.0)
        appointment = await booked(napi, who)
        event = (await heard.next())["notifications"]
        assert (event["kind"], event["channel"]) == ("BOOKED", "IN_APP")
        assert event["appointment"]["id"] == appointment
        assert "When:" in event["body"]
        await napi.gql(CANCEL, {"id": appointment}, who.token)
        assert (await heard.next())["notifications"]["kind"] == "CANCELLED"
        assert not_heard.pending() == []

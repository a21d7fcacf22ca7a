"""Calendar feeds, timezones and the profile: feeds parsed back with icalendar, a patient in
Asia/Kolkata booking a doctor in Europe/London on both sides of a DST change."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar

from tests.graphql_client import LOGIN, REGISTER, Api, Person, unique
from tests.notification_sinks import MailSink, eventually
from tests.notifications.conftest import booked, next_slot, parts, patient

ME = "{ me { id name phone timezone calendarFeedUrl } }"
ROTATE = "mutation { rotateCalendarFeedUrl }"
PROFILE = """mutation($name: String, $phone: String, $timezone: String) {
  updateMyProfile(name: $name, phone: $phone, timezone: $timezone) { id name phone timezone }
}"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!) { rescheduleAppointment(id: $id, slotId: $slotId) {
  id startsAt } }"""
CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"""
APPOINTMENT = """query($id: ID!) { appointment(id: $id) { id startsAt endsAt
  patient { id calendarFeedUrl } } }"""
MY_NOTIFICATIONS = """{ myNotifications { edges { node { kind body } } } }"""


def local_url(api: Api, url: str) -> str:
    """The feed URL names PUBLIC_BASE_URL; the test's server is on another port."""
    path = url[url.index("/calendar/") :]
    return api.gql.url.removesuffix("/graphql") + path


async def feed_of(api: Api, http: httpx.AsyncClient, who: Person) -> tuple[str, Calendar]:
    url = local_url(api, (await api.gql(ME, {}, who.token)).data["me"]["calendarFeedUrl"])
    reply = await http.get(url)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/calendar")
    return url, Calendar.from_ical(reply.content)


def events(calendar: Calendar) -> dict[str, Any]:
    return {str(e["UID"]).split("-")[1].split("@")[0]: e for e in calendar.walk("VEVENT")}


async def test_a_patients_feed_follows_moves_and_cancels(
    napi: Api, http: httpx.AsyncClient
) -> None:
    who = await patient(napi)
    kept = await booked(napi, who)
    moved = await booked(napi, who)
    cancelled = await booked(napi, who)
    _, before = await feed_of(napi, http, who)
    assert set(events(before)) == {kept, moved, cancelled}
    assert all(e.decoded("SEQUENCE") == 0 for e in events(before).values())

    clinic = await napi.clinic()
    day, start, end = next_slot()
    target = await napi.slot(clinic, start, end, day=day)
    # Same specialty is required: move within the first appointment's specialty instead.
    appointment = (await napi.gql(APPOINTMENT, {"id": moved}, who.token)).data["appointment"]
    assert appointment is not None
    same = await napi.gql(
        """query($id: ID!) { appointment(id: $id) { doctor { id } specialty { id } } }""",
        {"id": moved},
        who.token,
    )
    doctor_id = same.data["appointment"]["doctor"]["id"]
    day, start, end = next_slot()
    target = (
        await napi.gql(
            """mutation($doctorId: ID!, $input: SlotInput!) {
              createSlot(doctorId: $doctorId, input: $input) { id startsAt } }""",
            {"doctorId": doctor_id, "input": {"date": day, "startTime": start, "endTime": end}},
            napi.admin.token,
        )
    ).data["createSlot"]
    rescheduled = await napi.gql(RESCHEDULE, {"id": moved, "slotId": target["id"]}, who.token)
    assert rescheduled.data["rescheduleAppointment"]["startsAt"] == target["startsAt"]
    assert (await napi.gql(CANCEL, {"id": cancelled}, who.token)).data["cancelAppointment"][
        "status"
    ] == "CANCELLED"

    _, after = await feed_of(napi, http, who)
    found = events(after)
    assert found[kept].decoded("SEQUENCE") == 0 and str(found[kept]["STATUS"]) == "CONFIRMED"
    assert found[moved].decoded("SEQUENCE") == 1
    assert found[moved].decoded("DTSTART") == datetime.fromisoformat(target["startsAt"])
    assert str(found[cancelled]["STATUS"]) == "CANCELLED"
    assert found[cancelled].decoded("SEQUENCE") == 1


async def test_a_doctors_feed_holds_its_appointments(napi: Api, http: httpx.AsyncClient) -> None:
    clinic = await napi.clinic("Europe/London")
    first, second = await patient(napi), await patient(napi)
    ids = []
    for who in (first, second):
        day, start, end = next_slot()
        slot = await napi.slot(clinic, start, end, day=day)
        ids.append((await napi.book(slot["id"], who)).data["bookAppointment"]["id"])
    doctor = Person("", clinic.doctor_token, "", clinic.doctor_email)
    _, feed = await feed_of(napi, http, doctor)
    assert set(events(feed)) == set(ids)
    assert "TZID=Europe/London" in feed.to_ical().decode()


async def test_an_unknown_or_rotated_feed_is_a_404(napi: Api, http: httpx.AsyncClient) -> None:
    who = await patient(napi)
    await booked(napi, who)
    old_url, _ = await feed_of(napi, http, who)
    rotated = (await napi.gql(ROTATE, {}, who.token)).data["rotateCalendarFeedUrl"]
    assert local_url(napi, rotated) != old_url
    gone = await http.get(old_url)
    assert gone.status_code == 404 and gone.text == "Not Found"
    assert (await http.get(local_url(napi, rotated))).status_code == 200
    unknown = old_url.rsplit("/", 1)[0] + "/no-such-token.ics"
    assert (await http.get(unknown)).status_code == 404
    assert (await http.get(old_url.rsplit("/", 1)[0] + "/" + "x" * 500 + ".ics")).status_code == 404


async def test_a_feed_url_is_for_its_owner_only(napi: Api) -> None:
    who = await patient(napi)
    appointment = await booked(napi, who)
    reply = await napi.gql(APPOINTMENT, {"id": appointment}, napi.admin.token)
    assert reply.code == "FORBIDDEN"
    assert (await napi.gql(ROTATE, {})).code == "UNAUTHENTICATED"


async def test_update_my_profile_changes_what_is_given_and_refuses_bad_input(napi: Api) -> None:
    who = await patient(napi)
    changed = await napi.gql(PROFILE, {"timezone": "Asia/Kolkata", "name": "Ravi"}, who.token)
    assert changed.data["updateMyProfile"]["timezone"] == "Asia/Kolkata"
    assert changed.data["updateMyProfile"]["name"] == "Ravi"
    for variables, field in (
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "   "}, "name"),
        ({"phone": "call me maybe"}, "phone"),
    ):
        refused = await napi.gql(PROFILE, {**variables, "name": variables.get("name")}, who.token)
        assert refused.code == "BAD_USER_INPUT", refused.body
        assert refused.error["extensions"]["field"] == field
    me = (await napi.gql(ME, {}, who.token)).data["me"]
    assert (me["name"], me["timezone"]) == ("Ravi", "Asia/Kolkata")
    assert (await napi.gql(PROFILE, {"name": "X"})).code == "UNAUTHENTICATED"


async def test_register_refuses_an_unknown_timezone_and_writes_nothing(napi: Api) -> None:
    email = f"{unique('tz')}@example.com"
    reply = await napi.gql(
        REGISTER,
        {
            "input": {
                "email": email,
                "password": "patient-password",
                "name": "A",
                "timezone": "Nowhere",
            }
        },
    )
    assert reply.code == "BAD_USER_INPUT" and reply.error["extensions"]["field"] == "timezone"
    login = await napi.gql(LOGIN, {"email": email, "password": "patient-password"})
    assert login.code == "UNAUTHENTICATED"


def next_dst_change(zone: str) -> date:
    """The next day on which `zone`'s UTC offset changes."""
    tz = ZoneInfo(zone)
    day = date.today() + timedelta(days=2)
    while True:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
        after = noon + timedelta(days=1)
        if noon.utcoffset() != after.astimezone(tz).utcoffset():
            return day + timedelta(days=1)
        day += timedelta(days=1)


def _invite_start(message: EmailMessage) -> datetime:
    _, _, invite = parts(message)
    assert invite is not None
    [event] = invite.walk("VEVENT")
    start: datetime = event.decoded("DTSTART")
    return start


async def test_a_kolkata_patient_sees_a_london_doctor_in_both_zones_across_dst(
    napi: Api, mail: tuple[MailSink, int], http: httpx.AsyncClient
) -> None:
    sink, _ = mail
    who = await patient(napi, name="Kolkata Patient", timezone="Asia/Kolkata")
    clinic = await napi.clinic("Europe/London")
    change = next_dst_change("Europe/London")
    days = [change - timedelta(days=2), change + timedelta(days=1)]
    expected = []
    for day in days:
        slot = await napi.slot(clinic, "09:00", "09:30", day=day.isoformat())
        await napi.book(slot["id"], who)
        at = datetime.fromisoformat(slot["startsAt"])
        london = at.astimezone(ZoneInfo("Europe/London"))
        kolkata = at.astimezone(ZoneInfo("Asia/Kolkata"))
        assert f"{london:%H:%M}" == "09:00"
        expected.append((kolkata, london))
    # The two sides of the change are an hour apart in Kolkata, not in London.
    assert expected[0][0].time() != expected[1][0].time()
    messages = await eventually(lambda: sink.to(who.email)[1:] and sink.to(who.email))
    # Sent in one pass, the two may arrive in either order: matched by their visit's start.
    messages.sort(key=_invite_start)
    for (kolkata, london), message in zip(expected, messages, strict=True):
        text, _, invite = parts(message)
        assert f"{kolkata:%H:%M} IST (Asia/Kolkata)" in text
        assert f"{london:%H:%M} {london.tzname()} at the clinic (Europe/London)" in text
        assert invite is not None
        [event] = invite.walk("VEVENT")
        start = event.decoded("DTSTART")
        assert str(start.tzinfo) == "Asia/Kolkata" and start.replace(
            tzinfo=None
        ) == kolkata.replace(tzinfo=None)
    assert {m.tzname() for _, m in expected} == {"GMT", "BST"}
    inbox = (await napi.gql(MY_NOTIFICATIONS, {}, who.token)).data["myNotifications"]["edges"]
    assert any("IST (Asia/Kolkata)" in e["node"]["body"] for e in inbox)
    _, feed = await feed_of(napi, http, who)
    assert "TZID=Asia/Kolkata" in feed.to_ical().decode()

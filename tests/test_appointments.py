"""Appointments after booking: visibility, listings, pagination, the state machine, cancelling."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, Clinic, Person, Response, future_day
from tests.notification_sinks import until
from tests.visit_clock import starts_in

Store = AsyncDatabase[dict[str, Any]]

APPOINTMENT_FIELDS = """
  id status appointmentDate appointmentTime reasonForVisit notes virtualMeetingLink
  patient { id } doctor { id } specialty { id } slot { id state isBooked }
"""
APPOINTMENT = f"query($id: ID!) {{ appointment(id: $id) {{ {APPOINTMENT_FIELDS} }} }}"
MY_APPOINTMENTS = f"""query($status: [AppointmentStatus!]) {{
  myAppointments(status: $status) {{ {APPOINTMENT_FIELDS} }}
}}"""
APPOINTMENTS = """query(
  $doctorId: ID, $patientId: ID, $status: [AppointmentStatus!], $from: Date, $to: Date,
  $first: Int, $after: String
) {
  appointments(doctorId: $doctorId, patientId: $patientId, status: $status, from: $from,
               to: $to, first: $first, after: $after) {
    edges { cursor node { id status appointmentDate appointmentTime patient { id } doctor { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
UPDATE_STATUS = f"""mutation(
  $id: ID!, $status: AppointmentStatus!, $notes: String, $virtualMeetingLink: String
) {{
  updateAppointmentStatus(id: $id, status: $status, notes: $notes,
                          virtualMeetingLink: $virtualMeetingLink) {{ {APPOINTMENT_FIELDS} }}
}}"""
CANCEL = f"""mutation($id: ID!, $reason: String) {{
  cancelAppointment(id: $id, reason: $reason) {{ {APPOINTMENT_FIELDS} }}
}}"""

STATUSES = ["SCHEDULED", "CONFIRMED", "IN_PROGRESS", "COMPLETED", "CANCELLED", "NO_SHOW"]
# The contract's state machine, written out independently of the implementation.
ALLOWED = {
    "SCHEDULED": {"CONFIRMED", "CANCELLED", "NO_SHOW"},
    "CONFIRMED": {"IN_PROGRESS", "CANCELLED", "NO_SHOW"},
    "IN_PROGRESS": {"COMPLETED"},
    "COMPLETED": set(),
    "CANCELLED": set(),
    "NO_SHOW": {"CONFIRMED", "IN_PROGRESS"},  # undone within a day (tests/test_visit_rules.py)
}
# A way to reach each status from SCHEDULED.
PATH_TO = {
    "SCHEDULED": [],
    "CONFIRMED": ["CONFIRMED"],
    "IN_PROGRESS": ["CONFIRMED", "IN_PROGRESS"],
    "COMPLETED": ["CONFIRMED", "IN_PROGRESS", "COMPLETED"],
    "CANCELLED": ["CANCELLED"],
    "NO_SHOW": ["NO_SHOW"],
}


def half_hour(index: int) -> tuple[str, str]:
    """The index-th half-hour slot of a day from 07:00."""
    start = 7 * 60 + 30 * index
    end = start + 30
    return f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"


async def book_new(
    api: Api, clinic: Clinic, patient: Person, index: int = 0, day: str | None = None
) -> dict[str, Any]:
    start, end = half_hour(index)
    slot = await api.slot(clinic, start, end, day)
    return dict((await api.book(slot["id"], patient)).data["bookAppointment"])


async def appointment_doc(store: Store, appointment_id: str) -> dict[str, Any]:
    found = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
    assert found is not None, f"appointment {appointment_id} is not in the store"
    return found


async def settled_doc(store: Store, appointment_id: str) -> dict[str, Any]:
    """The appointment once its notifications and audit entries are written and their marks
    let go (the sender loop and the audit mover unset them in the background, a moment after
    the change)."""

    async def settled() -> dict[str, Any] | None:
        found = await appointment_doc(store, appointment_id)
        return None if "notifications_owed" in found or "audit_owed" in found else found

    return await until(settled)


async def slot_doc(store: Store, slot_id: str) -> dict[str, Any]:
    found = await store.slots.find_one({"_id": ObjectId(slot_id)})
    assert found is not None
    return found


async def set_status(
    api: Api, appointment_id: str, status: str, token: str, **extra: Any
) -> Response:
    return await api.gql(UPDATE_STATUS, {"id": appointment_id, "status": status, **extra}, token)


async def cancel(api: Api, appointment_id: str, token: str, reason: str | None = None) -> Response:
    return await api.gql(CANCEL, {"id": appointment_id, "reason": reason}, token)


async def ids_of(api: Api, token: str, **variables: Any) -> list[str]:
    reply = await api.gql(APPOINTMENTS, {"first": 100, **variables}, token)
    return [edge["node"]["id"] for edge in reply.data["appointments"]["edges"]]


# --- who sees an appointment ----------------------------------------------------------


async def test_appointment_is_visible_to_its_patient_doctor_and_admin(api: Api) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)

    for token in (patient.token, clinic.doctor_token, api.admin.token):
        seen = (await api.gql(APPOINTMENT, {"id": booked["id"]}, token)).data["appointment"]
        assert seen["id"] == booked["id"]
        assert seen["patient"] == {"id": patient.id}
        assert seen["doctor"] == {"id": clinic.doctor_id}
        assert seen["status"] == "SCHEDULED"


async def test_appointment_is_hidden_from_everyone_else(api: Api) -> None:
    clinic, other_clinic = await api.clinic(), await api.clinic()
    patient, other = await api.patient(), await api.patient()
    booked = await book_new(api, clinic, patient)

    by_other_patient = await api.gql(APPOINTMENT, {"id": booked["id"]}, other.token)
    by_other_doctor = await api.gql(APPOINTMENT, {"id": booked["id"]}, other_clinic.doctor_token)
    anonymous = await api.gql(APPOINTMENT, {"id": booked["id"]})

    # The implementation answers as if the appointment did not exist.
    assert by_other_patient.code == "NOT_FOUND"
    assert by_other_doctor.code == "NOT_FOUND"
    assert "patient" not in str(by_other_patient.body.get("data") or "")
    assert anonymous.code == "UNAUTHENTICATED"


async def test_appointment_lookup_errors(api: Api) -> None:
    patient = await api.patient()
    malformed = await api.gql(APPOINTMENT, {"id": "42"}, patient.token)
    unknown = await api.gql(APPOINTMENT, {"id": str(ObjectId())}, api.admin.token)
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "id"
    assert unknown.code == "NOT_FOUND"


async def test_outsiders_cannot_cancel_or_move_an_appointment(api: Api, store: Store) -> None:
    clinic, other_clinic = await api.clinic(), await api.clinic()
    patient, other = await api.patient(), await api.patient()
    booked = await book_new(api, clinic, patient)
    before = await settled_doc(store, booked["id"])

    assert (await cancel(api, booked["id"], other.token)).code == "NOT_FOUND"
    assert (await cancel(api, booked["id"], other_clinic.doctor_token)).code == "NOT_FOUND"
    moved = await set_status(api, booked["id"], "CONFIRMED", other_clinic.doctor_token)
    assert moved.code == "NOT_FOUND"
    assert (await set_status(api, booked["id"], "CANCELLED", other.token)).code == "NOT_FOUND"
    assert (await cancel(api, booked["id"], "")).code == "UNAUTHENTICATED"

    assert await appointment_doc(store, booked["id"]) == before
    assert (await slot_doc(store, booked["slot"]["id"]))["is_booked"] is True


# --- myAppointments -------------------------------------------------------------------


async def test_my_appointments_for_a_patient(api: Api) -> None:
    clinic = await api.clinic()
    patient, other = await api.patient(), await api.patient()
    later = await book_new(api, clinic, patient, 4)
    earlier = await book_new(api, clinic, patient, 1)
    cancelled = await book_new(api, clinic, patient, 2)
    others = await book_new(api, clinic, other, 3)
    await cancel(api, cancelled["id"], patient.token)

    mine = (await api.gql(MY_APPOINTMENTS, {}, patient.token)).data["myAppointments"]
    assert [a["id"] for a in mine] == [earlier["id"], cancelled["id"], later["id"]]
    assert all(a["patient"]["id"] == patient.id for a in mine)

    active = await api.gql(MY_APPOINTMENTS, {"status": ["SCHEDULED"]}, patient.token)
    assert [a["id"] for a in active.data["myAppointments"]] == [earlier["id"], later["id"]]
    gone = await api.gql(MY_APPOINTMENTS, {"status": ["CANCELLED"]}, patient.token)
    assert [a["id"] for a in gone.data["myAppointments"]] == [cancelled["id"]]
    none = await api.gql(MY_APPOINTMENTS, {"status": ["COMPLETED"]}, patient.token)
    assert none.data["myAppointments"] == []

    theirs = (await api.gql(MY_APPOINTMENTS, {}, other.token)).data["myAppointments"]
    assert [a["id"] for a in theirs] == [others["id"]]
    assert (await api.gql(MY_APPOINTMENTS, {})).code == "UNAUTHENTICATED"


async def test_my_appointments_for_a_doctor(api: Api) -> None:
    clinic, other_clinic = await api.clinic(), await api.clinic()
    first, second = await api.patient(), await api.patient()
    a = await book_new(api, clinic, first, 0)
    b = await book_new(api, clinic, second, 1)
    elsewhere = await book_new(api, other_clinic, first, 5)
    await set_status(api, b["id"], "CONFIRMED", clinic.doctor_token)

    mine = (await api.gql(MY_APPOINTMENTS, {}, clinic.doctor_token)).data["myAppointments"]
    assert [x["id"] for x in mine] == [a["id"], b["id"]]
    assert all(x["doctor"]["id"] == clinic.doctor_id for x in mine)
    confirmed = await api.gql(MY_APPOINTMENTS, {"status": ["CONFIRMED"]}, clinic.doctor_token)
    assert [x["id"] for x in confirmed.data["myAppointments"]] == [b["id"]]
    theirs = await api.gql(MY_APPOINTMENTS, {}, other_clinic.doctor_token)
    assert [x["id"] for x in theirs.data["myAppointments"]] == [elsewhere["id"]]


# --- the appointments connection ------------------------------------------------------


async def test_admin_lists_appointments_with_filters(api: Api) -> None:
    day1, day2 = future_day(20), future_day(21)
    clinic_a, clinic_b = await api.clinic(), await api.clinic()
    p1, p2 = await api.patient(), await api.patient()
    a1 = await book_new(api, clinic_a, p1, 2, day1)
    a2 = await book_new(api, clinic_a, p2, 2, day2)
    b1 = await book_new(api, clinic_b, p1, 6, day1)
    await cancel(api, a2["id"], p2.token)
    token = api.admin.token

    assert await ids_of(api, token, doctorId=clinic_a.doctor_id) == [a1["id"], a2["id"]]
    assert await ids_of(api, token, patientId=p1.id) == [a1["id"], b1["id"]]
    assert await ids_of(api, token, patientId=p2.id) == [a2["id"]]
    assert await ids_of(api, token, doctorId=clinic_a.doctor_id, status=["CANCELLED"]) == [a2["id"]]
    assert await ids_of(
        api, token, doctorId=clinic_a.doctor_id, status=["SCHEDULED", "CONFIRMED"]
    ) == [a1["id"]]
    assert await ids_of(api, token, patientId=p1.id, doctorId=clinic_b.doctor_id) == [b1["id"]]
    by_day = {"doctorId": clinic_a.doctor_id}
    assert await ids_of(api, token, **by_day, **{"from": day1, "to": day1}) == [a1["id"]]
    assert await ids_of(api, token, **by_day, **{"from": day2}) == [a2["id"]]
    assert await ids_of(api, token, **by_day, to=day1) == [a1["id"]]
    assert await ids_of(api, token, **by_day, **{"from": future_day(22)}) == []

    # With no filter an admin sees everyone's, whichever doctor or patient.
    seen: set[str] = set()
    after: str | None = None
    while True:
        page = (await api.gql(APPOINTMENTS, {"first": 100, "after": after}, token)).data
        seen.update(edge["node"]["id"] for edge in page["appointments"]["edges"])
        if not page["appointments"]["pageInfo"]["hasNextPage"]:
            break
        after = page["appointments"]["pageInfo"]["endCursor"]
    assert {a1["id"], a2["id"], b1["id"]} <= seen


async def test_doctor_lists_only_its_own_appointments(api: Api) -> None:
    clinic, other_clinic = await api.clinic(), await api.clinic()
    patient = await api.patient()
    mine = await book_new(api, clinic, patient, 0)
    await book_new(api, other_clinic, patient, 3)

    assert await ids_of(api, clinic.doctor_token) == [mine["id"]]
    assert await ids_of(api, clinic.doctor_token, doctorId=clinic.doctor_id) == [mine["id"]]
    assert await ids_of(api, clinic.doctor_token, patientId=patient.id) == [mine["id"]]
    refused = await api.gql(APPOINTMENTS, {"doctorId": other_clinic.doctor_id}, clinic.doctor_token)
    assert refused.code == "FORBIDDEN"


async def test_patients_and_anonymous_cannot_list_appointments(api: Api) -> None:
    patient = await api.patient()
    assert (await api.gql(APPOINTMENTS, {}, patient.token)).code == "FORBIDDEN"
    assert (await api.gql(APPOINTMENTS, {})).code == "UNAUTHENTICATED"


async def test_cursor_pagination_walks_every_appointment_once_in_start_order(api: Api) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    day1, day2 = future_day(12), future_day(13)
    # Booked out of order, across two days, so start order differs from creation order.
    order = [(3, day1), (1, day2), (0, day1), (4, day1), (2, day2)]
    booked = {
        (index, day): (await book_new(api, clinic, patient, index, day))["id"]
        for index, day in order
    }
    expected = [booked[key] for key in sorted(booked, key=lambda k: (k[1], k[0]))]

    walked: list[str] = []
    pages: list[tuple[int, bool]] = []
    after: str | None = None
    for _ in range(10):
        reply = await api.gql(
            APPOINTMENTS,
            {"doctorId": clinic.doctor_id, "first": 2, "after": after},
            api.admin.token,
        )
        connection = reply.data["appointments"]
        edges = connection["edges"]
        info = connection["pageInfo"]
        walked.extend(edge["node"]["id"] for edge in edges)
        pages.append((len(edges), info["hasNextPage"]))
        assert info["endCursor"] == edges[-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]

    assert walked == expected
    assert pages == [(2, True), (2, True), (1, False)]
    # Past the end: nothing more.
    past = await api.gql(
        APPOINTMENTS, {"doctorId": clinic.doctor_id, "first": 2, "after": after}, api.admin.token
    )
    last_page = past.data["appointments"]
    assert [edge["node"]["id"] for edge in last_page["edges"]] == expected[4:]
    end = last_page["pageInfo"]["endCursor"]
    beyond = await api.gql(
        APPOINTMENTS, {"doctorId": clinic.doctor_id, "first": 2, "after": end}, api.admin.token
    )
    assert beyond.data["appointments"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    # The doctor walks its own appointments the same way.
    first_page = await api.gql(APPOINTMENTS, {"first": 3}, clinic.doctor_token)
    assert [e["node"]["id"] for e in first_page.data["appointments"]["edges"]] == expected[:3]
    assert first_page.data["appointments"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        base64.urlsafe_b64encode(b"yesterday|nope").decode(),
        base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|123").decode(),
        "",
    ],
)
async def test_bad_cursor(api: Api, cursor: str) -> None:
    reply = await api.gql(APPOINTMENTS, {"after": cursor}, api.admin.token)
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "after"


@pytest.mark.parametrize("first", [0, -1, 101, 1000])
async def test_page_size_out_of_range(api: Api, first: int) -> None:
    reply = await api.gql(APPOINTMENTS, {"first": first}, api.admin.token)
    assert reply.body.get("errors"), f"first={first} was accepted"
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "first"


async def test_bad_filters(api: Api) -> None:
    token = api.admin.token
    bad_doctor = await api.gql(APPOINTMENTS, {"doctorId": "x"}, token)
    assert bad_doctor.code == "BAD_USER_INPUT"
    assert bad_doctor.error["extensions"]["field"] == "doctorId"
    bad_patient = await api.gql(APPOINTMENTS, {"patientId": "x"}, token)
    assert bad_patient.code == "BAD_USER_INPUT"
    assert bad_patient.error["extensions"]["field"] == "patientId"
    bad_status = await api.gql(APPOINTMENTS, {"status": ["DONE"]}, token)
    assert bad_status.code == "BAD_USER_INPUT"
    bad_date = await api.gql(APPOINTMENTS, {"from": "2026-02-30"}, token)
    assert bad_date.code == "BAD_USER_INPUT"
    today = date.today()
    backwards = await api.gql(
        APPOINTMENTS,
        {"from": (today + timedelta(days=5)).isoformat(), "to": today.isoformat()},
        token,
    )
    assert backwards.code == "BAD_USER_INPUT"


# --- the state machine ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["doctor", "admin"])
@pytest.mark.parametrize(
    "path",
    [
        ["CONFIRMED", "IN_PROGRESS", "COMPLETED"],
        ["NO_SHOW"],
        ["CONFIRMED", "NO_SHOW"],
        ["CONFIRMED", "CANCELLED"],
        ["CANCELLED"],
    ],
    ids="->".join,
)
async def test_allowed_moves(api: Api, store: Store, who: str, path: list[str]) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    token = clinic.doctor_token if who == "doctor" else api.admin.token
    await starts_in(store, booked["id"], -11)  # late enough for a visit or a no-show

    for status in path:
        moved = (await set_status(api, booked["id"], status, token)).data["updateAppointmentStatus"]
        assert moved["status"] == status
        assert (await appointment_doc(store, booked["id"]))["status"] == status

    slot = await slot_doc(store, booked["slot"]["id"])
    if path[-1] == "CANCELLED":  # cancelling frees the (future) slot
        assert slot["is_booked"] is False
        assert moved["slot"]["state"] == "AVAILABLE"
    else:
        assert slot["is_booked"] is True
        assert moved["slot"]["state"] == "BOOKED"
    seen = (await api.gql(APPOINTMENT, {"id": booked["id"]}, patient.token)).data["appointment"]
    assert seen["status"] == path[-1]


@pytest.mark.parametrize("current", STATUSES)
async def test_disallowed_moves_change_nothing(api: Api, store: Store, current: str) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    await starts_in(store, booked["id"], -11)  # only the state machine refuses below
    for status in PATH_TO[current]:
        await set_status(api, booked["id"], status, api.admin.token)
    before = await settled_doc(store, booked["id"])
    slot_before = await slot_doc(store, booked["slot"]["id"])
    assert before["status"] == current

    for requested in sorted(set(STATUSES) - ALLOWED[current]):
        for token in (clinic.doctor_token, api.admin.token):
            refused = await set_status(
                api, booked["id"], requested, token, notes="never saved", virtualMeetingLink="x"
            )
            assert refused.code == "INVALID_TRANSITION", (current, requested, refused.body)
    if "CANCELLED" not in ALLOWED[current]:
        assert (await cancel(api, booked["id"], patient.token)).code == "INVALID_TRANSITION"

    assert await appointment_doc(store, booked["id"]) == before
    assert await slot_doc(store, booked["slot"]["id"]) == slot_before


@pytest.mark.parametrize("status", ["CONFIRMED", "IN_PROGRESS", "COMPLETED", "NO_SHOW"])
async def test_patient_cannot_set_clinical_statuses(api: Api, store: Store, status: str) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    # Reach a status from which the move itself would be allowed: only the role is wrong.
    for step in PATH_TO[status][:-1]:
        await set_status(api, booked["id"], step, clinic.doctor_token)
    before = await settled_doc(store, booked["id"])

    refused = await set_status(api, booked["id"], status, patient.token)

    assert refused.code == "FORBIDDEN"
    assert await appointment_doc(store, booked["id"]) == before


async def test_patient_may_cancel_through_update_status(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)

    moved = await set_status(api, booked["id"], "CANCELLED", patient.token)

    assert moved.data["updateAppointmentStatus"]["status"] == "CANCELLED"
    assert (await slot_doc(store, booked["slot"]["id"]))["is_booked"] is False


async def test_notes_and_meeting_link_are_saved(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    link = "https://meet.example.com/room-42"

    moved = (
        await set_status(
            api,
            booked["id"],
            "CONFIRMED",
            clinic.doctor_token,
            notes="Bring previous reports",
            virtualMeetingLink=link,
        )
    ).data["updateAppointmentStatus"]

    assert moved["notes"] == "Bring previous reports"
    assert moved["virtualMeetingLink"] == link
    stored = await appointment_doc(store, booked["id"])
    assert stored["notes"] == "Bring previous reports"
    assert stored["virtual_meeting_link"] == link
    seen = (await api.gql(APPOINTMENT, {"id": booked["id"]}, patient.token)).data["appointment"]
    assert (seen["notes"], seen["virtualMeetingLink"]) == ("Bring previous reports", link)

    # A later move without them keeps them; a later move with new notes replaces them.
    await starts_in(store, booked["id"], -5)
    kept = (await set_status(api, booked["id"], "IN_PROGRESS", api.admin.token)).data[
        "updateAppointmentStatus"
    ]
    assert (kept["notes"], kept["virtualMeetingLink"]) == ("Bring previous reports", link)
    done = (
        await set_status(api, booked["id"], "COMPLETED", clinic.doctor_token, notes="All well")
    ).data["updateAppointmentStatus"]
    assert done["notes"] == "All well"
    assert (await appointment_doc(store, booked["id"]))["notes"] == "All well"


async def test_update_status_rejects_over_long_notes(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    before = await settled_doc(store, booked["id"])

    refused = await set_status(
        api, booked["id"], "CONFIRMED", clinic.doctor_token, notes="n" * 5000
    )

    assert refused.code == "BAD_USER_INPUT"
    assert refused.error["extensions"]["field"] == "notes"
    assert await appointment_doc(store, booked["id"]) == before


@pytest.mark.parametrize("status", ["CANCELLED", "CONFIRMED"])
@pytest.mark.parametrize(
    "fields",
    [
        {"notes": "I am fine, skip the tests"},
        {"virtualMeetingLink": "https://meet.example.com/room-1"},
        {"virtualMeetingLink": "javascript:alert(document.cookie)"},
        {"notes": ""},
    ],
)
async def test_a_patient_cannot_write_notes_or_the_meeting_link(
    api: Api, store: Store, status: str, fields: dict[str, str]
) -> None:
    """Issue 8: 12. Even on a move the patient may make (cancelling), nothing is written."""
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    before = await settled_doc(store, booked["id"])

    refused = await set_status(api, booked["id"], status, patient.token, **fields)

    assert refused.code == "FORBIDDEN", refused.body
    assert await appointment_doc(store, booked["id"]) == before
    assert (await slot_doc(store, booked["slot"]["id"]))["is_booked"] is True


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://meet.example.com/room",
        "https://",
        "https:///no-host",
        "//meet.example.com/room",
        "meet.example.com/room",
        "https://meet.example.com/a room",
        "https://meet.example.com/\x00",
        "https://[::1",
        "https://" + "a" * 2050 + ".example",
    ],
)
async def test_the_meeting_link_must_be_an_https_url(api: Api, store: Store, link: str) -> None:
    """Issue 8: 12."""
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    before = await settled_doc(store, booked["id"])

    refused = await set_status(
        api, booked["id"], "CONFIRMED", clinic.doctor_token, virtualMeetingLink=link
    )

    assert refused.code == "BAD_USER_INPUT", refused.body
    assert refused.error["extensions"]["field"] == "virtualMeetingLink"
    assert await appointment_doc(store, booked["id"]) == before


async def test_an_admin_sets_an_https_meeting_link_and_an_empty_one_clears_it(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    link = "https://meet.example.com:8443/room?id=42#join"

    moved = await set_status(
        api, booked["id"], "CONFIRMED", api.admin.token, virtualMeetingLink=link
    )

    assert moved.data["updateAppointmentStatus"]["virtualMeetingLink"] == link
    await starts_in(store, booked["id"], -5)
    cleared = await set_status(
        api, booked["id"], "IN_PROGRESS", clinic.doctor_token, virtualMeetingLink=" "
    )
    assert cleared.data["updateAppointmentStatus"]["virtualMeetingLink"] is None
    assert (await appointment_doc(store, booked["id"]))["virtual_meeting_link"] is None


# --- cancelAppointment ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "doctor", "admin"])
async def test_cancel_appointment(api: Api, store: Store, who: str) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    booked = await book_new(api, clinic, patient)
    token = {
        "patient": patient.token,
        "doctor": clinic.doctor_token,
        "admin": api.admin.token,
    }[who]

    cancelled = (await cancel(api, booked["id"], token, reason="plans changed")).data[
        "cancelAppointment"
    ]

    assert cancelled["status"] == "CANCELLED"
    assert cancelled["slot"]["state"] == "AVAILABLE"
    stored = await settled_doc(store, booked["id"])
    assert stored["status"] == "CANCELLED"
    assert stored["cancellation_reason"] == "plans changed"
    assert (await slot_doc(store, booked["slot"]["id"]))["is_booked"] is False

    again = await cancel(api, booked["id"], token)
    assert again.code == "INVALID_TRANSITION"
    assert await appointment_doc(store, booked["id"]) == stored


async def test_cancel_errors(api: Api) -> None:
    patient = await api.patient()
    malformed = await cancel(api, "abc", patient.token)
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "id"
    assert (await cancel(api, str(ObjectId()), patient.token)).code == "NOT_FOUND"


async def test_pagination_breaks_ties_in_start_time(api: Api) -> None:
    day = future_day(40)
    clinics = [await api.clinic() for _ in range(3)]
    same_time = [(await book_new(api, c, await api.patient(), 4, day))["id"] for c in clinics]
    query = """query($from: Date, $to: Date, $first: Int, $after: String) {
      appointments(from: $from, to: $to, first: $first, after: $after) {
        edges { cursor node { id startsAt } } pageInfo { hasNextPage endCursor }
      }
    }"""
    window = {"from": day, "to": day}

    walked: list[tuple[str, str]] = []
    after: str | None = None
    for _ in range(200):
        page = (await api.gql(query, {**window, "first": 2, "after": after}, api.admin.token)).data[
            "appointments"
        ]
        walked.extend((e["node"]["startsAt"], e["node"]["id"]) for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    at_once = (await api.gql(query, {**window, "first": 100}, api.admin.token)).data[
        "appointments"
    ]["edges"]

    ids = [appointment_id for _, appointment_id in walked]
    assert len(ids) == len(set(ids)), "an appointment was listed twice"
    assert set(same_time) <= set(ids)
    assert walked == sorted(walked, key=lambda item: (item[0], item[1]))
    assert ids == [e["node"]["id"] for e in at_once]

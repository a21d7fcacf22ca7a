"""Check-in and the visit's time rules: no start long before the time, no no-show before the
patient is late or once checked in, a no-show undone within a day; booking for a walk-in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, Clinic, Person, Response
from tests.visit_clock import no_show_marked_ago, starts_in

Store = AsyncDatabase[dict[str, Any]]

FIELDS = "id status checkedInAt noShowAt history { action }"
CHECK_IN = f"mutation($id: ID!) {{ checkInAppointment(id: $id) {{ {FIELDS} }} }}"
SET_STATUS = f"""mutation($id: ID!, $status: AppointmentStatus!) {{
  updateAppointmentStatus(id: $id, status: $status) {{ {FIELDS} }}
}}"""
REGISTER_PATIENT = "mutation($input: PatientInput!) { registerPatient(input: $input) { id } }"


async def booked(api: Api, clinic: Clinic, patient: Person, start: str = "10:00") -> str:
    end = f"{int(start[:2]):02d}:30"
    slot = await api.slot(clinic, start, end)
    return str((await api.book(slot["id"], patient)).data["bookAppointment"]["id"])


async def status(api: Api, appointment_id: str, value: str, token: str) -> Response:
    return await api.gql(SET_STATUS, {"id": appointment_id, "status": value}, token)


async def stored(store: Store, appointment_id: str) -> dict[str, Any]:
    found = await store["appointments"].find_one({"_id": ObjectId(appointment_id)})
    assert found is not None
    return found


def instant(extensions: dict[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(extensions[key])


async def test_check_in_opens_two_hours_before_the_start(api: Api, store: Store) -> None:
    clinic, patient = await api.clinic(), await api.patient()
    appointment = await booked(api, clinic, patient)
    start = await starts_in(store, appointment, 125)
    early = await api.gql(CHECK_IN, {"id": appointment}, api.admin.token)
    assert early.code == "INVALID_TRANSITION", early.body
    assert instant(early.error["extensions"], "earliest") == start - timedelta(minutes=120)
    assert (await stored(store, appointment)).get("checked_in_at") is None

    await starts_in(store, appointment, 90)
    first = (await api.gql(CHECK_IN, {"id": appointment}, api.admin.token)).data
    checked = first["checkInAppointment"]
    assert checked["status"] == "SCHEDULED"
    assert checked["checkedInAt"] is not None
    assert "appointment.checked_in" in [entry["action"] for entry in checked["history"]]
    again = (await api.gql(CHECK_IN, {"id": appointment}, clinic.doctor_token)).data
    assert again["checkInAppointment"]["checkedInAt"] == checked["checkedInAt"]


async def test_only_an_admin_or_its_doctor_checks_in(api: Api, store: Store) -> None:
    clinic, other, patient = await api.clinic(), await api.clinic(), await api.patient()
    appointment = await booked(api, clinic, patient)
    await starts_in(store, appointment, 30)
    by_patient = await api.gql(CHECK_IN, {"id": appointment}, patient.token)
    assert by_patient.code == "FORBIDDEN"
    by_other_doctor = await api.gql(CHECK_IN, {"id": appointment}, other.doctor_token)
    assert by_other_doctor.code == "NOT_FOUND"
    malformed = await api.gql(CHECK_IN, {"id": "nope"}, api.admin.token)
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "id"
    assert (await stored(store, appointment)).get("checked_in_at") is None
    by_doctor = await api.gql(CHECK_IN, {"id": appointment}, clinic.doctor_token)
    assert by_doctor.data["checkInAppointment"]["checkedInAt"] is not None


async def test_a_cancelled_appointment_cannot_be_checked_in(api: Api, store: Store) -> None:
    clinic, patient = await api.clinic(), await api.patient()
    appointment = await booked(api, clinic, patient)
    await status(api, appointment, "CANCELLED", patient.token)
    await starts_in(store, appointment, 30)
    refused = await api.gql(CHECK_IN, {"id": appointment}, api.admin.token)
    assert refused.code == "INVALID_TRANSITION"
    assert refused.error["extensions"]["currentStatus"] == "CANCELLED"


async def test_a_visit_starts_no_earlier_than_fifteen_minutes_before(
    api: Api, store: Store
) -> None:
    clinic, patient = await api.clinic(), await api.patient()
    appointment = await booked(api, clinic, patient)
    await status(api, appointment, "CONFIRMED", clinic.doctor_token)
    start = await starts_in(store, appointment, 30)
    for token in (clinic.doctor_token, api.admin.token):  # an admin is bound too
        early = await status(api, appointment, "IN_PROGRESS", token)
        assert early.code == "INVALID_TRANSITION", early.body
        assert instant(early.error["extensions"], "earliest") == start - timedelta(minutes=15)
    assert (await stored(store, appointment))["status"] == "CONFIRMED"
    assert (await status(api, appointment, "COMPLETED", clinic.doctor_token)).code == (
        "INVALID_TRANSITION"
    )
    await starts_in(store, appointment, 10)
    started = (await status(api, appointment, "IN_PROGRESS", clinic.doctor_token)).data
    assert started["updateAppointmentStatus"]["status"] == "IN_PROGRESS"
    assert started["updateAppointmentStatus"]["checkedInAt"] is not None  # they are here
    done = (await status(api, appointment, "COMPLETED", clinic.doctor_token)).data
    assert done["updateAppointmentStatus"]["status"] == "COMPLETED"


async def test_no_show_only_once_the_patient_is_late_and_never_once_checked_in(
    api: Api, store: Store
) -> None:
    clinic, patient = await api.clinic(), await api.patient()
    appointment = await booked(api, clinic, patient)
    start = await starts_in(store, appointment, -5)
    early = await status(api, appointment, "NO_SHOW", clinic.doctor_token)
    assert early.code == "INVALID_TRANSITION"
    assert instant(early.error["extensions"], "earliest") == start + timedelta(minutes=10)
    assert (await stored(store, appointment))["status"] == "SCHEDULED"

    arrived = await booked(api, clinic, patient, "11:00")
    await starts_in(store, arrived, 30)
    await api.gql(CHECK_IN, {"id": arrived}, api.admin.token)
    await starts_in(store, arrived, -20)
    checked_in = await status(api, arrived, "NO_SHOW", api.admin.token)
    assert checked_in.code == "INVALID_TRANSITION"
    assert "earliest" not in checked_in.error["extensions"]
    assert (await stored(store, arrived))["status"] == "SCHEDULED"

    await starts_in(store, appointment, -11)
    missed = (await status(api, appointment, "NO_SHOW", clinic.doctor_token)).data
    assert missed["updateAppointmentStatus"]["status"] == "NO_SHOW"
    assert missed["updateAppointmentStatus"]["noShowAt"] is not None


@pytest.mark.parametrize("back_to", ["CONFIRMED", "IN_PROGRESS"])
async def test_a_no_show_is_undone_within_a_day_by_its_doctor_or_an_admin(
    api: Api, store: Store, back_to: str
) -> None:
    clinic, patient = await api.clinic(), await api.patient()
    appointment = await booked(api, clinic, patient)
    await starts_in(store, appointment, -30)
    await status(api, appointment, "NO_SHOW", clinic.doctor_token)
    assert (await status(api, appointment, back_to, patient.token)).code == "FORBIDDEN"
    assert (await status(api, appointment, "COMPLETED", api.admin.token)).code == (
        "INVALID_TRANSITION"
    )
    undone = (await status(api, appointment, back_to, clinic.doctor_token)).data
    shown = undone["updateAppointmentStatus"]
    assert shown["status"] == back_to
    assert shown["noShowAt"] is None
    assert (shown["checkedInAt"] is not None) == (back_to == "IN_PROGRESS")
    assert [a for a in (e["action"] for e in shown["history"]) if "status" in a] == [
        "appointment.status_changed",
        "appointment.status_changed",
    ]


async def test_a_no_show_older_than_a_day_stays(api: Api, store: Store) -> None:
    clinic, patient = await api.clinic(), await api.patient()
    appointment = await booked(api, clinic, patient)
    await starts_in(store, appointment, -30)
    await status(api, appointment, "NO_SHOW", clinic.doctor_token)
    await no_show_marked_ago(store, appointment, 25)
    late = await status(api, appointment, "CONFIRMED", api.admin.token)
    assert late.code == "INVALID_TRANSITION"
    assert "latest" in late.error["extensions"]
    assert (await stored(store, appointment))["status"] == "NO_SHOW"


async def test_the_front_desk_holds_and_books_for_a_walk_in_under_their_lock_limit(
    api: Api,
) -> None:
    clinic = await api.clinic()
    walk_in = (
        await api.gql(
            REGISTER_PATIENT,
            {"input": {"name": "Walk In", "phone": "98765 11111"}},
            api.admin.token,
        )
    ).data["registerPatient"]["id"]
    slots = [await api.slot(clinic, f"{h:02d}:00", f"{h:02d}:30") for h in (13, 14, 15)]
    for slot in slots[:2]:
        held = await api.lock(slot["id"], api.admin, patient_id=walk_in)
        assert held.data["lockSlot"]["state"] == "LOCKED"
    third = await api.lock(slots[2]["id"], api.admin, patient_id=walk_in)
    assert third.code == "LOCK_LIMIT_REACHED"
    made = await api.book(slots[0]["id"], api.admin, patientId=walk_in, reasonForVisit="Fever")
    appointment = made.data["bookAppointment"]
    assert appointment["patient"] == {"id": walk_in}
    assert appointment["status"] == "SCHEDULED"
    seen = await api.gql(
        "query($id: ID!) { appointment(id: $id) { patient { name email phone } } }",
        {"id": appointment["id"]},
        clinic.doctor_token,
    )
    assert seen.data["appointment"]["patient"] == {
        "name": "Walk In",
        "email": None,
        "phone": "+91 98765 11111",
    }


async def test_the_fee_names_the_clinic_currency(api: Api) -> None:
    clinic = await api.clinic()
    reply = await api.gql(
        "query($id: ID!) { doctor(id: $id) { consultationFee consultationFeeCurrency } }",
        {"id": clinic.doctor_id},
    )
    assert reply.data["doctor"] == {"consultationFee": 300.0, "consultationFeeCurrency": "INR"}

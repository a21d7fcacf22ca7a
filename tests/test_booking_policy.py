"""Booking policy through the HTTP endpoint: minimum notice, how far ahead, the cancellation
cutoff; per doctor and from settings; admins (and a doctor cancelling) not bound. Also the
appointment's endTime and cancellation fields."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import (
    CREATE_SLOT,
    Api,
    Clinic,
    GraphQL,
    Person,
    future_day,
    unique,
)
from tests.servers import ApiServer

Store = AsyncDatabase[dict[str, Any]]

DOCTOR_POLICY = """query($id: ID!) { doctor(id: $id) { id minNoticeMinutes maxDaysAhead } }"""
UPDATE_DOCTOR = """mutation($id: ID!, $input: DoctorUpdateInput!) {
  updateDoctor(id: $id, input: $input) { id minNoticeMinutes maxDaysAhead }
}"""
CREATE_DOCTOR = """mutation($input: DoctorInput!) {
  createDoctor(input: $input) { id minNoticeMinutes maxDaysAhead }
}"""
CANCEL = """mutation($id: ID!, $reason: String) {
  cancelAppointment(id: $id, reason: $reason) {
    id status cancelledAt cancellationReason cancelledBy { id role }
  }
}"""
APPOINTMENT = """query($id: ID!) {
  appointment(id: $id) {
    id appointmentTime endTime cancelledAt cancellationReason cancelledBy { id }
  }
}"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!) {
  rescheduleAppointment(id: $id, slotId: $slotId) { id slot { id } }
}"""

# The policy server's defaults: two days' notice, twenty days ahead, a three-day cutoff.
NOTICE_MINUTES = 2 * 24 * 60
DAYS_AHEAD = 20
CUTOFF_MINUTES = 3 * 24 * 60


@pytest.fixture(scope="module")
def policy_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        store_uri,
        db_name,
        env={
            "BOOKING_MIN_NOTICE_MINUTES": str(NOTICE_MINUTES),
            "BOOKING_MAX_DAYS_AHEAD": str(DAYS_AHEAD),
            "CANCELLATION_CUTOFF_MINUTES": str(CUTOFF_MINUTES),
        },
    ).start(log_dir)
    yield server
    server.stop()


@pytest.fixture
def on_policy(api: Api, policy_server: ApiServer) -> Api:
    """The same admin and helpers, talking to the server with non-default policy settings."""
    return Api(GraphQL(api.gql.http, policy_server.url), api.admin)


async def set_policy(api: Api, clinic: Clinic, **policy: int) -> dict[str, Any]:
    reply = await api.gql(UPDATE_DOCTOR, {"id": clinic.doctor_id, "input": policy}, api.admin.token)
    return dict(reply.data["updateDoctor"])


async def slot_doc(store: Store, slot_id: str) -> dict[str, Any]:
    found = await store.slots.find_one({"_id": ObjectId(slot_id)})
    assert found is not None
    return found


async def assert_untouched(store: Store, slot_id: str) -> None:
    stored = await slot_doc(store, slot_id)
    assert stored["is_booked"] is False
    assert stored["booking_lock"].get("is_active") is None
    assert await store.appointments.count_documents({"slot_id": ObjectId(slot_id)}) == 0


def assert_outside_window(reply: Any, earliest_after: datetime, latest_before: datetime) -> None:
    assert reply.code == "OUTSIDE_BOOKING_WINDOW", reply.body
    extensions = reply.error["extensions"]
    earliest = datetime.fromisoformat(extensions["earliest"])
    latest = datetime.fromisoformat(extensions["latest"])
    assert earliest_after <= earliest <= latest <= latest_before


# --- the doctor's policy fields -----------------------------------------------------------


async def test_doctor_shows_the_settings_defaults_until_it_has_its_own(api: Api) -> None:
    clinic = await api.clinic()
    shown = (await api.gql(DOCTOR_POLICY, {"id": clinic.doctor_id})).data["doctor"]
    assert (shown["minNoticeMinutes"], shown["maxDaysAhead"]) == (0, 90)

    changed = await set_policy(api, clinic, minNoticeMinutes=120, maxDaysAhead=30)
    assert (changed["minNoticeMinutes"], changed["maxDaysAhead"]) == (120, 30)
    shown = (await api.gql(DOCTOR_POLICY, {"id": clinic.doctor_id})).data["doctor"]
    assert (shown["minNoticeMinutes"], shown["maxDaysAhead"]) == (120, 30)


async def test_doctor_policy_defaults_come_from_settings(api: Api, on_policy: Api) -> None:
    clinic = await api.clinic()
    shown = (await on_policy.gql(DOCTOR_POLICY, {"id": clinic.doctor_id})).data["doctor"]
    assert (shown["minNoticeMinutes"], shown["maxDaysAhead"]) == (NOTICE_MINUTES, DAYS_AHEAD)


async def test_create_doctor_with_a_policy_and_at_the_bounds(api: Api, store: Store) -> None:
    specialty = (await api.clinic()).specialty_id
    for notice, ahead in ((0, 1), (525600, 730)):
        created = (
            await api.gql(
                CREATE_DOCTOR,
                {
                    "input": {
                        "name": "Dr. Bounds",
                        "email": f"{unique('bounds')}@example.com",
                        "specialtyId": specialty,
                        "licenseNumber": unique("LIC-B-"),
                        "minNoticeMinutes": notice,
                        "maxDaysAhead": ahead,
                    }
                },
                api.admin.token,
            )
        ).data["createDoctor"]
        assert (created["minNoticeMinutes"], created["maxDaysAhead"]) == (notice, ahead)
        stored = await store.doctors.find_one({"_id": ObjectId(created["id"])})
        assert (stored["min_notice_minutes"], stored["max_days_ahead"]) == (notice, ahead)


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"minNoticeMinutes": -1}, "minNoticeMinutes"),
        ({"minNoticeMinutes": 525601}, "minNoticeMinutes"),
        ({"maxDaysAhead": 0}, "maxDaysAhead"),
        ({"maxDaysAhead": 731}, "maxDaysAhead"),
        ({"maxDaysAhead": -5}, "maxDaysAhead"),
        ({"minNoticeMinutes": "sixty"}, "minNoticeMinutes"),
        ({"maxDaysAhead": "30"}, "maxDaysAhead"),
        ({"minNoticeMinutes": 1.5}, "minNoticeMinutes"),
        ({"minNoticeMinutes": 2**40}, "minNoticeMinutes"),
        ({"maxDaysAhead": [30]}, "maxDaysAhead"),
    ],
)
async def test_out_of_range_policy_is_refused_and_nothing_written(
    api: Api, store: Store, policy: dict[str, Any], field: str
) -> None:
    clinic = await api.clinic()
    email = f"{unique('refused')}@example.com"
    created = await api.gql(
        CREATE_DOCTOR,
        {
            "input": {
                "name": "Dr. Refused",
                "email": email,
                "specialtyId": clinic.specialty_id,
                "licenseNumber": unique("LIC-R-"),
                **policy,
            }
        },
        api.admin.token,
    )
    assert created.code == "BAD_USER_INPUT", created.body
    assert created.error["extensions"].get("field") == field
    assert await store.doctors.count_documents({"email": email}) == 0

    before = await store.doctors.find_one({"_id": ObjectId(clinic.doctor_id)})
    updated = await api.gql(
        UPDATE_DOCTOR,
        {"id": clinic.doctor_id, "input": {"name": "Renamed", **policy}},
        api.admin.token,
    )
    assert updated.code == "BAD_USER_INPUT", updated.body
    assert updated.error["extensions"].get("field") == field
    assert await store.doctors.find_one({"_id": ObjectId(clinic.doctor_id)}) == before


async def test_only_admins_set_a_doctor_policy(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    for token in (patient.token, clinic.doctor_token):
        reply = await api.gql(
            UPDATE_DOCTOR, {"id": clinic.doctor_id, "input": {"minNoticeMinutes": 5}}, token
        )
        assert reply.code == "FORBIDDEN"
    stored = await store.doctors.find_one({"_id": ObjectId(clinic.doctor_id)})
    assert stored.get("min_notice_minutes") is None


# --- the booking window ---------------------------------------------------------------------


async def test_min_notice_per_doctor_refuses_lock_and_book_but_not_admins(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    await set_policy(api, clinic, minNoticeMinutes=3 * 24 * 60)
    soon = await api.slot(clinic, "09:00", "09:30", day=future_day(1))
    later = await api.slot(clinic, "09:00", "09:30", day=future_day(5))
    patient = await api.patient()

    asked = datetime.now(UTC)
    locked = await api.lock(soon["id"], patient)
    assert_outside_window(locked, asked + timedelta(days=3), datetime.now(UTC) + timedelta(days=90))
    assert_outside_window(
        await api.book(soon["id"], patient),
        asked + timedelta(days=3),
        datetime.now(UTC) + timedelta(days=90),
    )
    await assert_untouched(store, soon["id"])

    assert (await api.lock(later["id"], patient)).data["lockSlot"]["lock"]["lockedByMe"]
    assert (await api.book(later["id"], patient)).data["bookAppointment"]["status"] == "SCHEDULED"

    # An admin acting for the patient is not bound by the window.
    held = await api.lock(soon["id"], api.admin, patient_id=patient.id)
    assert held.data["lockSlot"]["lock"]["patient"]["id"] == patient.id
    booked = await api.book(soon["id"], api.admin, patientId=patient.id)
    assert booked.data["bookAppointment"]["slot"]["state"] == "BOOKED"


async def test_a_renewal_outside_the_window_keeps_the_lock_as_it_was(
    api: Api, store: Store
) -> None:
    """lockSlot claims first and checks the window after: a renewal the window now refuses
    gets back the very lock it held (same expiry), not a longer one and not none."""
    clinic = await api.clinic()
    await set_policy(api, clinic, maxDaysAhead=20)
    slot = await api.slot(clinic, "10:00", "10:30", day=future_day(12))
    patient = await api.patient()
    assert (await api.lock(slot["id"], patient)).data["lockSlot"]["lock"]["lockedByMe"]
    held = await slot_doc(store, slot["id"])

    await set_policy(api, clinic, maxDaysAhead=5)
    assert (await api.lock(slot["id"], patient)).code == "OUTSIDE_BOOKING_WINDOW"

    after = await slot_doc(store, slot["id"])
    assert after["booking_lock"] == held["booking_lock"]
    assert after["updated_at"] == held["updated_at"]
    assert after.get("lock_key") == held.get("lock_key")


async def test_max_days_ahead_per_doctor(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    await set_policy(api, clinic, maxDaysAhead=5)
    far = await api.slot(clinic, "10:00", "10:30", day=future_day(12))
    near = await api.slot(clinic, "10:00", "10:30", day=future_day(3))
    patient = await api.patient()

    asked = datetime.now(UTC)
    refused = await api.book(far["id"], patient)
    assert_outside_window(refused, asked, datetime.now(UTC) + timedelta(days=5))
    assert (await api.lock(far["id"], patient)).code == "OUTSIDE_BOOKING_WINDOW"
    await assert_untouched(store, far["id"])
    assert (await api.book(near["id"], patient)).data["bookAppointment"]["status"] == "SCHEDULED"
    # The admin books it for the patient all the same.
    assert (await api.book(far["id"], api.admin, patientId=patient.id)).data["bookAppointment"]


async def test_settings_defaults_bound_patients(api: Api, on_policy: Api, store: Store) -> None:
    clinic = await api.clinic()
    too_soon = await api.slot(clinic, "11:00", "11:30", day=future_day(1))
    too_far = await api.slot(clinic, "11:00", "11:30", day=future_day(DAYS_AHEAD + 3))
    fine = await api.slot(clinic, "11:00", "11:30", day=future_day(6))
    patient = await api.patient()

    for slot in (too_soon, too_far):
        assert (await on_policy.lock(slot["id"], patient)).code == "OUTSIDE_BOOKING_WINDOW"
        assert (await on_policy.book(slot["id"], patient)).code == "OUTSIDE_BOOKING_WINDOW"
        await assert_untouched(store, slot["id"])
    booked = await on_policy.book(fine["id"], patient)
    assert booked.data["bookAppointment"]["status"] == "SCHEDULED"

    # A doctor's own numbers win over the settings.
    await set_policy(api, clinic, minNoticeMinutes=0, maxDaysAhead=60)
    assert (await on_policy.book(too_soon["id"], patient)).data["bookAppointment"]
    assert (await on_policy.book(too_far["id"], patient)).data["bookAppointment"]


# --- the cancellation cutoff ------------------------------------------------------------------


async def _booked_for(api: Api, slot_id: str, patient: Person) -> str:
    booked = await api.book(slot_id, api.admin, patientId=patient.id)
    return str(booked.data["bookAppointment"]["id"])


async def test_patient_cannot_cancel_or_reschedule_after_the_cutoff(
    api: Api, on_policy: Api, store: Store
) -> None:
    clinic = await api.clinic()
    inside_cutoff = await api.slot(clinic, "12:00", "12:30", day=future_day(2))
    target = await api.slot(clinic, "12:00", "12:30", day=future_day(8))
    patient = await api.patient()
    appointment_id = await _booked_for(api, inside_cutoff["id"], patient)

    cancel = await on_policy.gql(CANCEL, {"id": appointment_id}, patient.token)
    assert cancel.code == "TOO_LATE_TO_CANCEL", cancel.body
    cutoff = datetime.fromisoformat(cancel.error["extensions"]["cutoff"])
    starts = datetime.fromisoformat(inside_cutoff["startsAt"])
    assert cutoff == starts - timedelta(minutes=CUTOFF_MINUTES)
    moved = await on_policy.gql(
        RESCHEDULE, {"id": appointment_id, "slotId": target["id"]}, patient.token
    )
    assert moved.code == "TOO_LATE_TO_CANCEL", moved.body
    stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
    assert stored["status"] == "SCHEDULED" and str(stored["slot_id"]) == inside_cutoff["id"]
    assert (await slot_doc(store, inside_cutoff["id"]))["is_booked"] is True
    await assert_untouched(store, target["id"])


async def test_doctor_cancelling_is_not_bound(api: Api, on_policy: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "13:00", "13:30", day=future_day(2))
    patient = await api.patient()
    appointment_id = await _booked_for(api, slot["id"], patient)
    cancelled = await on_policy.gql(
        CANCEL, {"id": appointment_id, "reason": "Doctor unwell"}, clinic.doctor_token
    )
    data = cancelled.data["cancelAppointment"]
    assert data["status"] == "CANCELLED"
    assert data["cancelledBy"]["role"] == "DOCTOR"
    assert data["cancellationReason"] == "Doctor unwell"


async def test_admin_cancelling_is_not_bound(api: Api, on_policy: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "14:00", "14:30", day=future_day(2))
    patient = await api.patient()
    appointment_id = await _booked_for(api, slot["id"], patient)
    cancelled = await on_policy.gql(CANCEL, {"id": appointment_id}, api.admin.token)
    assert cancelled.data["cancelAppointment"]["cancelledBy"]["id"] == api.admin.id


async def test_patient_cancels_before_the_cutoff(api: Api, on_policy: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "15:00", "15:30", day=future_day(6))
    patient = await api.patient()
    appointment_id = await _booked_for(api, slot["id"], patient)
    before = datetime.now(UTC)
    cancelled = await on_policy.gql(
        CANCEL, {"id": appointment_id, "reason": "  Feeling better  "}, patient.token
    )
    data = cancelled.data["cancelAppointment"]
    assert data["status"] == "CANCELLED"
    assert data["cancelledBy"] == {"id": patient.id, "role": "PATIENT"}
    assert data["cancellationReason"] == "Feeling better"
    assert before <= datetime.fromisoformat(data["cancelledAt"]) <= datetime.now(UTC)
    stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
    assert str(stored["cancelled_by"]) == patient.id
    assert stored["cancellation_reason"] == "Feeling better"
    assert (await slot_doc(store, slot["id"]))["is_booked"] is False


# --- endTime and the cancellation fields ------------------------------------------------------


async def test_end_time_is_stored_at_booking_in_the_doctors_zone(api: Api, store: Store) -> None:
    clinic = await api.clinic("Asia/Kolkata")
    slot = await api.slot(clinic, "09:15", "09:55")
    patient = await api.patient()
    booked = (await api.book(slot["id"], patient)).data["bookAppointment"]
    shown = (await api.gql(APPOINTMENT, {"id": booked["id"]}, patient.token)).data["appointment"]
    assert (shown["appointmentTime"], shown["endTime"]) == ("09:15", "09:55")
    assert shown["cancelledAt"] is None and shown["cancelledBy"] is None
    assert shown["cancellationReason"] is None
    stored = await store.appointments.find_one({"_id": ObjectId(booked["id"])})
    assert stored["end_time"] == "09:55"


async def test_end_time_of_an_older_appointment_is_derived(api: Api, store: Store) -> None:
    clinic = await api.clinic("America/New_York")
    slot = await api.slot(clinic, "16:00", "16:45")
    patient = await api.patient()
    booked = (await api.book(slot["id"], patient)).data["bookAppointment"]
    # As an appointment written before end_time was kept.
    await store.appointments.update_one(
        {"_id": ObjectId(booked["id"])}, {"$unset": {"end_time": ""}}
    )
    shown = (await api.gql(APPOINTMENT, {"id": booked["id"]}, patient.token)).data["appointment"]
    assert shown["endTime"] == "16:45"


async def test_slot_creation_refuses_nothing_new(api: Api) -> None:
    """The policy binds patients' bookings, not the admin's slot making."""
    clinic = await api.clinic()
    await set_policy(api, clinic, maxDaysAhead=1)
    reply = await api.gql(
        CREATE_SLOT,
        {
            "doctorId": clinic.doctor_id,
            "input": {"date": future_day(30), "startTime": "08:00", "endTime": "08:30"},
        },
        api.admin.token,
    )
    assert reply.data["createSlot"]["state"] == "AVAILABLE"

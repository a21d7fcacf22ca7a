"""bookAppointment through the HTTP endpoint: where it may start, who may book, overlaps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, Clinic, future_day

Store = AsyncDatabase[dict[str, Any]]

SLOT = """query($id: ID!) { slot(id: $id) { id state isBooked lock { lockedByMe } } }"""
CANCEL = """mutation($id: ID!, $reason: String) {
  cancelAppointment(id: $id, reason: $reason) { id status slot { id state isBooked } }
}"""
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id state }
}"""


async def slot_doc(store: Store, slot_id: str) -> dict[str, Any]:
    found = await store.slots.find_one({"_id": ObjectId(slot_id)})
    assert found is not None, f"slot {slot_id} is not in the store"
    return found


async def appointments_for_slot(store: Store, slot_id: str) -> list[dict[str, Any]]:
    return await store.appointments.find({"slot_id": ObjectId(slot_id)}).to_list()


async def assert_unbooked(store: Store, slot_id: str) -> None:
    assert await appointments_for_slot(store, slot_id) == []
    assert (await slot_doc(store, slot_id))["is_booked"] is False


def assert_booked_appointment(
    booked: dict[str, Any], slot: dict[str, Any], clinic: Clinic, patient_id: str
) -> None:
    assert booked["status"] == "SCHEDULED"
    assert booked["patient"]["id"] == patient_id
    assert booked["doctor"]["id"] == clinic.doctor_id
    assert booked["specialty"]["id"] == clinic.specialty_id
    assert booked["slot"] == {"id": slot["id"], "state": "BOOKED", "isBooked": True}
    assert booked["appointmentDate"] == slot["date"]
    assert booked["appointmentTime"] == slot["startTime"]


async def assert_stored_booking(
    store: Store, slot_id: str, appointment_id: str, patient_id: str
) -> None:
    stored_slot = await slot_doc(store, slot_id)
    assert stored_slot["is_booked"] is True
    assert stored_slot["booking_lock"].get("is_active") is None
    stored = await appointments_for_slot(store, slot_id)
    assert [str(a["_id"]) for a in stored] == [appointment_id]
    assert stored[0]["status"] == "SCHEDULED"
    assert str(stored[0]["patient_id"]) == patient_id


async def test_book_an_available_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30")
    patient = await api.patient()

    booked = (await api.book(slot["id"], patient, reasonForVisit="  headache  ")).data[
        "bookAppointment"
    ]

    assert_booked_appointment(booked, slot, clinic, patient.id)
    assert booked["reasonForVisit"] == "headache"
    await assert_stored_booking(store, slot["id"], booked["id"], patient.id)
    seen = (await api.gql(SLOT, {"id": slot["id"]}, patient.token)).data["slot"]
    assert seen["state"] == "BOOKED"
    assert seen["lock"] is None


async def test_book_from_own_lock(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "10:00", "10:45")
    patient = await api.patient()
    assert (await api.lock(slot["id"], patient)).data["lockSlot"]["state"] == "LOCKED"

    booked = (await api.book(slot["id"], patient, doctorId=clinic.doctor_id)).data[
        "bookAppointment"
    ]

    assert_booked_appointment(booked, slot, clinic, patient.id)
    await assert_stored_booking(store, slot["id"], booked["id"], patient.id)
    seen = (await api.gql(SLOT, {"id": slot["id"]}, patient.token)).data["slot"]
    assert seen["state"] == "BOOKED"
    assert seen["lock"] is None


async def test_booked_lock_no_longer_counts_towards_the_limit(api: Api) -> None:
    clinic = await api.clinic()
    slots = [
        await api.slot(clinic, start, end)
        for start, end in (("08:00", "08:30"), ("08:30", "09:00"), ("09:00", "09:30"))
    ]
    patient = await api.patient()
    await api.lock(slots[0]["id"], patient)
    await api.lock(slots[1]["id"], patient)
    assert (await api.lock(slots[2]["id"], patient)).code == "LOCK_LIMIT_REACHED"

    await api.book(slots[0]["id"], patient)

    assert (await api.lock(slots[2]["id"], patient)).data["lockSlot"]["state"] == "LOCKED"


async def test_cannot_book_a_slot_locked_by_another_patient(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    holder, other = await api.patient(), await api.patient()
    held = (await api.lock(slot["id"], holder)).data["lockSlot"]["lock"]

    refused = await api.book(slot["id"], other)

    assert refused.code == "SLOT_LOCKED"
    expires_at = datetime.fromisoformat(refused.error["extensions"]["expiresAt"])
    assert expires_at == datetime.fromisoformat(held["expiresAt"])
    await assert_unbooked(store, slot["id"])
    assert str((await slot_doc(store, slot["id"]))["booking_lock"]["patient_id"]) == holder.id
    # The holder still can.
    assert (await api.book(slot["id"], holder)).data["bookAppointment"]["status"] == "SCHEDULED"


async def test_cannot_book_a_booked_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    first, second = await api.patient(), await api.patient()
    booked = (await api.book(slot["id"], first)).data["bookAppointment"]

    refused = await api.book(slot["id"], second)
    again = await api.book(slot["id"], first)

    assert refused.code == "SLOT_ALREADY_BOOKED"
    assert again.code == "SLOT_ALREADY_BOOKED"
    await assert_stored_booking(store, slot["id"], booked["id"], first.id)


async def test_cannot_book_a_disabled_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": False}, api.admin.token)
    patient = await api.patient()

    assert (await api.book(slot["id"], patient)).code == "SLOT_UNAVAILABLE"
    await assert_unbooked(store, slot["id"])


async def test_doctor_id_must_be_the_slots_doctor(api: Api, store: Store) -> None:
    clinic, other_clinic = await api.clinic(), await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()

    wrong = await api.book(slot["id"], patient, doctorId=other_clinic.doctor_id)
    malformed = await api.book(slot["id"], patient, doctorId="doctor-1")

    assert wrong.code == "BAD_USER_INPUT"
    assert wrong.error["extensions"]["field"] == "doctorId"
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "doctorId"
    await assert_unbooked(store, slot["id"])


async def test_bad_and_unknown_slot_ids(api: Api) -> None:
    patient = await api.patient()

    malformed = await api.book("xyz", patient)
    unknown = await api.book(str(ObjectId()), patient)

    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "slotId"
    assert unknown.code == "NOT_FOUND"


async def test_booking_needs_a_patient_or_an_admin(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)

    anonymous = await api.gql(
        """mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }""",
        {"input": {"slotId": slot["id"]}},
    )
    by_doctor = await api.gql(
        """mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }""",
        {"input": {"slotId": slot["id"]}},
        clinic.doctor_token,
    )

    assert anonymous.code == "UNAUTHENTICATED"
    assert by_doctor.code == "FORBIDDEN"
    await assert_unbooked(store, slot["id"])


async def test_admin_books_on_a_patients_behalf(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()

    booked = (await api.book(slot["id"], api.admin, patientId=patient.id)).data["bookAppointment"]

    assert_booked_appointment(booked, slot, clinic, patient.id)
    await assert_stored_booking(store, slot["id"], booked["id"], patient.id)
    mine = await api.gql("{ myAppointments { id patient { id } } }", token=patient.token)
    assert {"id": booked["id"], "patient": {"id": patient.id}} in mine.data["myAppointments"]


async def test_admin_must_name_the_patient_and_patients_only_book_for_themselves(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient, other = await api.patient(), await api.patient()

    no_patient = await api.book(slot["id"], api.admin)
    for_other = await api.book(slot["id"], patient, patientId=other.id)

    assert no_patient.code == "BAD_USER_INPUT"
    assert no_patient.error["extensions"]["field"] == "patientId"
    assert for_other.code == "FORBIDDEN"
    await assert_unbooked(store, slot["id"])


async def test_overlapping_appointments_of_one_patient_conflict(api: Api, store: Store) -> None:
    day = future_day(9)
    clinic_a, clinic_b, clinic_c = await api.clinic(), await api.clinic(), await api.clinic()
    first = await api.slot(clinic_a, "09:00", "09:30", day)
    same_time = await api.slot(clinic_b, "09:00", "09:30", day)
    partial = await api.slot(clinic_c, "09:10", "09:25", day)
    right_after = await api.slot(clinic_a, "09:30", "10:00", day)
    patient = await api.patient()
    booked = (await api.book(first["id"], patient)).data["bookAppointment"]

    same = await api.book(same_time["id"], patient)
    overlapping = await api.book(partial["id"], patient)

    assert same.code == "CONFLICT"
    assert overlapping.code == "CONFLICT"
    await assert_unbooked(store, same_time["id"])
    await assert_unbooked(store, partial["id"])
    # Back to back is not an overlap.
    adjacent = (await api.book(right_after["id"], patient)).data["bookAppointment"]
    assert adjacent["status"] == "SCHEDULED"
    # Another patient may take the same time.
    assert (await api.book(same_time["id"], await api.patient())).data["bookAppointment"]
    # A cancelled appointment no longer blocks its time.
    await api.gql(CANCEL, {"id": booked["id"]}, patient.token)
    assert (await api.book(partial["id"], patient)).data["bookAppointment"]["status"] == (
        "SCHEDULED"
    )


async def test_cancelling_frees_the_slot_for_someone_else(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    first, second = await api.patient(), await api.patient()
    booked = (await api.book(slot["id"], first)).data["bookAppointment"]

    cancelled = (await api.gql(CANCEL, {"id": booked["id"], "reason": "travel"}, first.token)).data[
        "cancelAppointment"
    ]

    assert cancelled["status"] == "CANCELLED"
    assert cancelled["slot"]["state"] == "AVAILABLE"
    assert cancelled["slot"]["isBooked"] is False
    seen = (await api.gql(SLOT, {"id": slot["id"]}, second.token)).data["slot"]
    assert seen["state"] == "AVAILABLE"
    assert (await slot_doc(store, slot["id"]))["is_booked"] is False

    rebooked = (await api.book(slot["id"], second)).data["bookAppointment"]

    assert rebooked["status"] == "SCHEDULED"
    assert rebooked["patient"]["id"] == second.id
    stored = await appointments_for_slot(store, slot["id"])
    assert len(stored) == 2
    active = [a for a in stored if a["status"] != "CANCELLED"]
    assert [str(a["_id"]) for a in active] == [rebooked["id"]]
    assert str(active[0]["patient_id"]) == second.id
    assert (await slot_doc(store, slot["id"]))["is_booked"] is True
    # The first patient can no longer take it back.
    assert (await api.book(slot["id"], first)).code == "SLOT_ALREADY_BOOKED"


SET_DOCTOR_ACTIVE = """mutation($id: ID!, $active: Boolean!) {
  updateDoctor(id: $id, input: {isActive: $active}) { id isActive }
}"""
AVAILABLE = """query($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { id }
}"""


async def test_an_inactive_doctors_slots_cannot_be_taken(api: Api, store: Store) -> None:
    """A doctor who left stops taking appointments, even from a client holding a slot id."""
    clinic = await api.clinic()
    slot = await api.slot(clinic, "11:00", "11:30")
    patient = await api.patient()
    off = await api.gql(
        SET_DOCTOR_ACTIVE, {"id": clinic.doctor_id, "active": False}, api.admin.token
    )
    assert off.data["updateDoctor"]["isActive"] is False
    assert (await api.lock(slot["id"], patient)).code == "SLOT_UNAVAILABLE"
    assert (await api.book(slot["id"], patient)).code == "SLOT_UNAVAILABLE"
    assert (await api.gql(SLOT, {"id": slot["id"]})).data["slot"]["state"] == "UNAVAILABLE"
    found = await api.gql(AVAILABLE, {"doctorId": clinic.doctor_id, "date": slot["date"]})
    assert found.data["availableSlots"] == []
    assert await store["appointments"].count_documents({"slot_id": ObjectId(slot["id"])}) == 0

    on = await api.gql(SET_DOCTOR_ACTIVE, {"id": clinic.doctor_id, "active": True}, api.admin.token)
    assert on.data["updateDoctor"]["isActive"] is True
    booked = (await api.book(slot["id"], patient)).data["bookAppointment"]
    assert booked["slot"]["state"] == "BOOKED"

"""Specialties and doctors: the admin catalogue, and how patients find bookable doctors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import (
    CREATE_SPECIALTY,
    LOGIN,
    Api,
    Clinic,
    GraphQL,
    Person,
    future_day,
    unique,
)

SPECIALTY_FIELDS = "id name description isActive createdAt updatedAt"
CREATE_SPECIALTY_FULL = f"""mutation($input: SpecialtyInput!) {{
  createSpecialty(input: $input) {{ {SPECIALTY_FIELDS} }}
}}"""
UPDATE_SPECIALTY = f"""mutation($id: ID!, $input: SpecialtyUpdateInput!) {{
  updateSpecialty(id: $id, input: $input) {{ {SPECIALTY_FIELDS} }}
}}"""
SPECIALTIES = """query($includeInactive: Boolean) {
  specialties(includeInactive: $includeInactive) { id name isActive }
}"""
SPECIALTIES_DEFAULT = "query { specialties { id name isActive } }"
SPECIALTY = f"""query($id: ID!) {{
  specialty(id: $id) {{ {SPECIALTY_FIELDS} doctors {{ id name isActive }} }}
}}"""

DOCTOR_FIELDS = """id name email phone licenseNumber consultationFee isActive profileImage
  timezone createdAt updatedAt specialty { id name }"""
CREATE_DOCTOR_FULL = f"""mutation($input: DoctorInput!) {{
  createDoctor(input: $input) {{ {DOCTOR_FIELDS} }}
}}"""
UPDATE_DOCTOR = f"""mutation($id: ID!, $input: DoctorUpdateInput!) {{
  updateDoctor(id: $id, input: $input) {{ {DOCTOR_FIELDS} }}
}}"""
DOCTOR = f"query($id: ID!) {{ doctor(id: $id) {{ {DOCTOR_FIELDS} }} }}"
DOCTORS = """query($specialtyId: ID, $date: Date, $includeInactive: Boolean) {
  doctors(specialtyId: $specialtyId, date: $date, includeInactive: $includeInactive) {
    id name isActive specialty { id name }
  }
}"""
DOCTORS_ON_DAY = """query($specialtyId: ID, $date: Date!) {
  doctors(specialtyId: $specialtyId, date: $date) {
    id specialty { id }
    availableSlots(date: $date) { id date startTime state startsAt doctor { id } }
  }
}"""
AVAILABLE_SLOTS = """query($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) {
    id date startTime endTime state isAvailable isBooked startsAt doctor { id }
  }
}"""
ME = "query { me { id email role doctor { id name } } }"
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id state }
}"""

UNKNOWN_ID = str(ObjectId())


def doctor_input(specialty_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": unique("Dr. Catalog "),
        "email": f"{unique('catalog-doctor')}@example.com",
        "specialtyId": specialty_id,
        "licenseNumber": unique("CAT-LIC-"),
        **overrides,
    }


async def new_specialty(api: Api, name: str | None = None) -> dict[str, Any]:
    reply = await api.gql(
        CREATE_SPECIALTY_FULL, {"input": {"name": name or unique("Catalog ")}}, api.admin.token
    )
    return dict(reply.data["createSpecialty"])


async def new_doctor(api: Api, specialty_id: str, **overrides: Any) -> dict[str, Any]:
    reply = await api.gql(
        CREATE_DOCTOR_FULL, {"input": doctor_input(specialty_id, **overrides)}, api.admin.token
    )
    return dict(reply.data["createDoctor"])


# --- specialties --------------------------------------------------------------------------


async def test_create_specialty_returns_every_field(api: Api) -> None:
    name = unique("Cardiology ")
    reply = await api.gql(
        CREATE_SPECIALTY_FULL,
        {"input": {"name": f"  {name}  ", "description": "Heart and vessels"}},
        api.admin.token,
    )
    created = reply.data["createSpecialty"]
    assert created["name"] == name  # trimmed
    assert created["description"] == "Heart and vessels"
    assert created["isActive"] is True
    assert datetime.fromisoformat(created["createdAt"]).tzinfo is not None
    assert datetime.fromisoformat(created["updatedAt"]).tzinfo is not None
    fetched = (await api.gql(SPECIALTY, {"id": created["id"]})).data["specialty"]
    assert fetched["id"] == created["id"]
    assert fetched["name"] == name
    assert fetched["doctors"] == []


async def test_specialty_name_is_unique_case_insensitively(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    name = unique("Dermatology ")
    await new_specialty(api, name)
    for clash in (name, name.upper(), name.lower(), f" {name.swapcase()} "):
        reply = await api.gql(CREATE_SPECIALTY, {"input": {"name": clash}}, api.admin.token)
        assert reply.code == "CONFLICT", clash
        assert reply.error["extensions"]["field"] == "name"
    assert await store["specialties"].count_documents({"name_key": name.casefold()}) == 1


async def test_create_specialty_refuses_bad_names(api: Api, store: AsyncDatabase[Any]) -> None:
    before = await store["specialties"].count_documents({})
    for bad in ("", "   ", "x" * 121):
        reply = await api.gql(CREATE_SPECIALTY, {"input": {"name": bad}}, api.admin.token)
        assert reply.code == "BAD_USER_INPUT", bad
        assert reply.error["extensions"]["field"] == "name"
        existing = await new_specialty(api)
        renamed = await api.gql(
            UPDATE_SPECIALTY, {"id": existing["id"], "input": {"name": bad}}, api.admin.token
        )
        assert renamed.code == "BAD_USER_INPUT", bad
        assert renamed.error["extensions"]["field"] == "name"
        kept = (await api.gql(SPECIALTY, {"id": existing["id"]})).data["specialty"]
        assert kept["name"] == existing["name"]
        before += 1
    reply = await api.gql(
        CREATE_SPECIALTY,
        {"input": {"name": unique("Long description "), "description": "d" * 5000}},
        api.admin.token,
    )
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "description"
    assert await store["specialties"].count_documents({}) == before


async def test_update_specialty_renames_and_keeps_names_unique(api: Api) -> None:
    specialty = await new_specialty(api)
    other = await new_specialty(api)
    new_name = unique("Renamed ")
    updated = (
        await api.gql(
            UPDATE_SPECIALTY,
            {"id": specialty["id"], "input": {"name": new_name, "description": "now described"}},
            api.admin.token,
        )
    ).data["updateSpecialty"]
    assert updated["id"] == specialty["id"]
    assert updated["name"] == new_name
    assert updated["description"] == "now described"
    assert updated["isActive"] is True
    assert updated["updatedAt"] >= specialty["updatedAt"]
    assert (await api.gql(SPECIALTY, {"id": specialty["id"]})).data["specialty"]["name"] == new_name

    clash = await api.gql(
        UPDATE_SPECIALTY,
        {"id": specialty["id"], "input": {"name": other["name"].upper()}},
        api.admin.token,
    )
    assert clash.code == "CONFLICT"
    assert clash.error["extensions"]["field"] == "name"
    still = (await api.gql(SPECIALTY, {"id": specialty["id"]})).data["specialty"]
    assert still["name"] == new_name

    # Changing only the case of its own name is not a clash with itself.
    recased = (
        await api.gql(
            UPDATE_SPECIALTY,
            {"id": specialty["id"], "input": {"name": new_name.upper()}},
            api.admin.token,
        )
    ).data["updateSpecialty"]
    assert recased["name"] == new_name.upper()


async def test_deactivated_specialty_is_hidden_unless_asked_for(api: Api) -> None:
    specialty = await new_specialty(api)
    visible = {s["id"] for s in (await api.gql(SPECIALTIES_DEFAULT)).data["specialties"]}
    assert specialty["id"] in visible

    deactivated = (
        await api.gql(
            UPDATE_SPECIALTY,
            {"id": specialty["id"], "input": {"isActive": False}},
            api.admin.token,
        )
    ).data["updateSpecialty"]
    assert deactivated["isActive"] is False
    assert deactivated["name"] == specialty["name"]

    default_list = (await api.gql(SPECIALTIES_DEFAULT)).data["specialties"]
    assert specialty["id"] not in {s["id"] for s in default_list}
    assert all(s["isActive"] for s in default_list)
    explicit = (await api.gql(SPECIALTIES, {"includeInactive": False})).data["specialties"]
    assert specialty["id"] not in {s["id"] for s in explicit}
    everything = (await api.gql(SPECIALTIES, {"includeInactive": True})).data["specialties"]
    assert {"id": specialty["id"], "name": specialty["name"], "isActive": False} in everything
    # Still reachable by id.
    assert (await api.gql(SPECIALTY, {"id": specialty["id"]})).data["specialty"][
        "isActive"
    ] is False

    reactivated = (
        await api.gql(
            UPDATE_SPECIALTY,
            {"id": specialty["id"], "input": {"isActive": True}},
            api.admin.token,
        )
    ).data["updateSpecialty"]
    assert reactivated["isActive"] is True
    visible = {s["id"] for s in (await api.gql(SPECIALTIES_DEFAULT)).data["specialties"]}
    assert specialty["id"] in visible


async def test_specialty_by_id_errors(api: Api) -> None:
    unknown = await api.gql(SPECIALTY, {"id": UNKNOWN_ID})
    assert unknown.code == "NOT_FOUND"
    malformed = await api.gql(SPECIALTY, {"id": "not-an-id"})
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "id"
    missing = await api.gql(
        UPDATE_SPECIALTY, {"id": UNKNOWN_ID, "input": {"name": unique("Ghost ")}}, api.admin.token
    )
    assert missing.code == "NOT_FOUND"


async def test_specialty_doctors_lists_only_its_active_doctors(api: Api) -> None:
    specialty = await new_specialty(api)
    other = await new_specialty(api)
    first = await new_doctor(api, specialty["id"], name=unique("Dr. A "))
    second = await new_doctor(api, specialty["id"], name=unique("Dr. B "))
    retired = await new_doctor(api, specialty["id"], name=unique("Dr. C "))
    await new_doctor(api, other["id"])
    await api.gql(
        UPDATE_DOCTOR, {"id": retired["id"], "input": {"isActive": False}}, api.admin.token
    )

    doctors = (await api.gql(SPECIALTY, {"id": specialty["id"]})).data["specialty"]["doctors"]
    assert {d["id"] for d in doctors} == {first["id"], second["id"]}
    assert all(d["isActive"] for d in doctors)

    # Through the list query too (batched by a loader).
    listed = (
        await api.gql(
            "query { specialties { id doctors { id } } }",
        )
    ).data["specialties"]
    by_id = {s["id"]: {d["id"] for d in s["doctors"]} for s in listed}
    assert by_id[specialty["id"]] == {first["id"], second["id"]}
    assert retired["id"] not in by_id[other["id"]]


# --- doctors ------------------------------------------------------------------------------


async def test_create_doctor_defaults(api: Api) -> None:
    specialty = await new_specialty(api)
    created = (
        await api.gql(
            CREATE_DOCTOR_FULL,
            {
                "input": {
                    "name": "Dr. Defaults",
                    "email": f"{unique('Defaults')}@Example.COM",
                    "specialtyId": specialty["id"],
                    "licenseNumber": unique("DEF-"),
                }
            },
            api.admin.token,
        )
    ).data["createDoctor"]
    assert created["timezone"] == "UTC"  # CLINIC_TIMEZONE, itself defaulting to UTC
    assert created["consultationFee"] == 0
    assert created["isActive"] is True
    assert created["phone"] is None
    assert created["profileImage"] is None
    assert created["email"] == created["email"].lower()
    assert created["specialty"] == {"id": specialty["id"], "name": specialty["name"]}
    assert (await api.gql(DOCTOR, {"id": created["id"]})).data["doctor"] == created


async def test_create_doctor_keeps_given_fields(api: Api) -> None:
    specialty = await new_specialty(api)
    given = doctor_input(
        specialty["id"],
        phone="+91 98765 43210",
        consultationFee=450.5,
        timezone="Asia/Kolkata",
        profileImage="https://example.com/doctor.png",
    )
    created = (await api.gql(CREATE_DOCTOR_FULL, {"input": given}, api.admin.token)).data[
        "createDoctor"
    ]
    assert created["name"] == given["name"]
    assert created["email"] == given["email"]
    assert created["licenseNumber"] == given["licenseNumber"]
    assert created["phone"] == "+91 98765 43210"
    assert created["consultationFee"] == 450.5
    assert created["timezone"] == "Asia/Kolkata"
    assert created["profileImage"] == "https://example.com/doctor.png"


async def test_doctor_email_and_licence_are_unique(api: Api, store: AsyncDatabase[Any]) -> None:
    specialty = await new_specialty(api)
    first = await new_doctor(api, specialty["id"])
    same_email = await api.gql(
        CREATE_DOCTOR_FULL,
        {"input": doctor_input(specialty["id"], email=first["email"].upper())},
        api.admin.token,
    )
    assert same_email.code == "CONFLICT"
    assert same_email.error["extensions"]["field"] == "email"
    same_licence = await api.gql(
        CREATE_DOCTOR_FULL,
        {"input": doctor_input(specialty["id"], licenseNumber=first["licenseNumber"])},
        api.admin.token,
    )
    assert same_licence.code == "CONFLICT"
    assert same_licence.error["extensions"]["field"] == "licenseNumber"
    assert await store["doctors"].count_documents({"email": first["email"]}) == 1
    assert await store["doctors"].count_documents({"license_number": first["licenseNumber"]}) == 1
    assert await store["doctors"].count_documents({"specialty_id": ObjectId(specialty["id"])}) == 1

    # updateDoctor keeps them unique too.
    second = await new_doctor(api, specialty["id"])
    for field, value in (("email", first["email"]), ("licenseNumber", first["licenseNumber"])):
        reply = await api.gql(
            UPDATE_DOCTOR, {"id": second["id"], "input": {field: value}}, api.admin.token
        )
        assert reply.code == "CONFLICT", field
        assert reply.error["extensions"]["field"] == field
    unchanged = (await api.gql(DOCTOR, {"id": second["id"]})).data["doctor"]
    assert unchanged["email"] == second["email"]
    assert unchanged["licenseNumber"] == second["licenseNumber"]


BAD_DOCTOR_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("negative fee", {"consultationFee": -1}, "BAD_USER_INPUT", "consultationFee"),
    ("unknown zone", {"timezone": "Mars/Olympus"}, "BAD_USER_INPUT", "timezone"),
    ("not a zone", {"timezone": "UTC+5"}, "BAD_USER_INPUT", "timezone"),
    ("invalid email", {"email": "not-an-email"}, "BAD_USER_INPUT", "email"),
    ("over-long email", {"email": f"{'e' * 250}@example.com"}, "BAD_USER_INPUT", "email"),
    ("email no domain", {"email": "someone@"}, "BAD_USER_INPUT", "email"),
    ("over-long name", {"name": "N" * 121}, "BAD_USER_INPUT", "name"),
    ("blank name", {"name": "   "}, "BAD_USER_INPUT", "name"),
    ("over-long licence", {"licenseNumber": "L" * 65}, "BAD_USER_INPUT", "licenseNumber"),
    ("bad phone", {"phone": "call me maybe"}, "BAD_USER_INPUT", "phone"),
    ("short password", {"password": "short"}, "BAD_USER_INPUT", "password"),
    ("malformed specialty", {"specialtyId": "not-an-id"}, "BAD_USER_INPUT", "specialtyId"),
    ("unknown specialty", {"specialtyId": UNKNOWN_ID}, "NOT_FOUND", "specialtyId"),
]


@pytest.mark.parametrize(
    ("case", "overrides", "code", "field"),
    BAD_DOCTOR_INPUTS,
    ids=[case[0] for case in BAD_DOCTOR_INPUTS],
)
async def test_create_doctor_refuses_bad_input_and_stores_nothing(
    api: Api,
    store: AsyncDatabase[Any],
    case: str,
    overrides: dict[str, Any],
    code: str,
    field: str,
) -> None:
    specialty = await new_specialty(api)
    given = doctor_input(specialty["id"], **{"password": "doctor-password", **overrides})
    doctors_before = await store["doctors"].count_documents({})
    users_before = await store["users"].count_documents({})
    reply = await api.gql(CREATE_DOCTOR_FULL, {"input": given}, api.admin.token)
    assert reply.code == code, reply.body
    assert reply.error["extensions"].get("field") == field
    assert reply.body.get("data") is None
    assert await store["doctors"].count_documents({}) == doctors_before
    assert await store["users"].count_documents({}) == users_before
    assert await store["doctors"].count_documents({"license_number": given["licenseNumber"]}) == 0


async def test_a_wrongly_typed_doctor_field_is_named(api: Api, store: AsyncDatabase[Any]) -> None:
    specialty = await new_specialty(api)
    given = doctor_input(specialty["id"], consultationFee="free")
    reply = await api.gql(CREATE_DOCTOR_FULL, {"input": given}, api.admin.token)
    assert reply.code == "BAD_USER_INPUT"
    assert await store["doctors"].count_documents({"email": given["email"]}) == 0
    assert reply.error["extensions"].get("field") == "consultationFee"


async def test_create_doctor_with_password_creates_a_doctor_login(api: Api) -> None:
    specialty = await new_specialty(api)
    email = f"{unique('login-doctor')}@example.com"
    created = await new_doctor(api, specialty["id"], email=email, password="doctor-password")
    login = (await api.gql(LOGIN, {"email": email, "password": "doctor-password"})).data["login"]
    assert login["user"]["role"] == "DOCTOR"
    me = (await api.gql(ME, token=login["accessToken"])).data["me"]
    assert me["role"] == "DOCTOR"
    assert me["email"] == email
    assert me["doctor"] == {"id": created["id"], "name": created["name"]}

    wrong = await api.gql(LOGIN, {"email": email, "password": "not-the-password"})
    assert wrong.code == "UNAUTHENTICATED"


async def test_create_doctor_without_password_creates_no_login(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    specialty = await new_specialty(api)
    created = await new_doctor(api, specialty["id"])
    assert await store["users"].count_documents({"email": created["email"]}) == 0
    assert await store["doctors"].count_documents({"_id": ObjectId(created["id"])}) == 1


async def test_create_doctor_login_email_taken_stores_no_doctor(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    specialty = await new_specialty(api)
    patient = await api.patient()
    given = doctor_input(specialty["id"], email=patient.email, password="doctor-password")
    reply = await api.gql(CREATE_DOCTOR_FULL, {"input": given}, api.admin.token)
    assert reply.code == "CONFLICT"
    assert reply.error["extensions"]["field"] == "email"
    assert await store["doctors"].count_documents({"email": patient.email}) == 0
    # The patient's account is untouched.
    me = (await api.gql(ME, token=patient.token)).data["me"]
    assert me["role"] == "PATIENT"
    assert me["doctor"] is None


async def test_update_doctor_fee_timezone_and_details(api: Api) -> None:
    specialty = await new_specialty(api)
    other_specialty = await new_specialty(api)
    doctor = await new_doctor(api, specialty["id"], consultationFee=100)
    updated = (
        await api.gql(
            UPDATE_DOCTOR,
            {
                "id": doctor["id"],
                "input": {
                    "consultationFee": 750,
                    "timezone": "Europe/Berlin",
                    "phone": "+49 30 1234567",
                    "specialtyId": other_specialty["id"],
                },
            },
            api.admin.token,
        )
    ).data["updateDoctor"]
    assert updated["consultationFee"] == 750
    assert updated["timezone"] == "Europe/Berlin"
    assert updated["phone"] == "+49 30 1234567"
    assert updated["specialty"]["id"] == other_specialty["id"]
    # Untouched fields stay.
    assert updated["name"] == doctor["name"]
    assert updated["email"] == doctor["email"]
    assert updated["licenseNumber"] == doctor["licenseNumber"]
    assert updated["updatedAt"] >= doctor["updatedAt"]
    assert (await api.gql(DOCTOR, {"id": doctor["id"]})).data["doctor"] == updated


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"consultationFee": -0.01}, "BAD_USER_INPUT", "consultationFee"),
        ({"timezone": "Mars/Olympus"}, "BAD_USER_INPUT", "timezone"),
        ({"email": "nope"}, "BAD_USER_INPUT", "email"),
        ({"name": "N" * 121}, "BAD_USER_INPUT", "name"),
        ({"specialtyId": "bad"}, "BAD_USER_INPUT", "specialtyId"),
        ({"specialtyId": UNKNOWN_ID}, "NOT_FOUND", "specialtyId"),
    ],
)
async def test_update_doctor_refuses_bad_input_and_changes_nothing(
    api: Api, overrides: dict[str, Any], code: str, field: str
) -> None:
    specialty = await new_specialty(api)
    doctor = await new_doctor(api, specialty["id"], consultationFee=200, timezone="Asia/Tokyo")
    # A valid change alongside the bad one must not be applied either.
    reply = await api.gql(
        UPDATE_DOCTOR,
        {"id": doctor["id"], "input": {"phone": "+81 3 1234 5678", **overrides}},
        api.admin.token,
    )
    assert reply.code == code, reply.body
    assert reply.error["extensions"].get("field") == field
    assert (await api.gql(DOCTOR, {"id": doctor["id"]})).data["doctor"] == doctor


async def test_update_unknown_or_malformed_doctor(api: Api) -> None:
    unknown = await api.gql(
        UPDATE_DOCTOR, {"id": UNKNOWN_ID, "input": {"consultationFee": 1}}, api.admin.token
    )
    assert unknown.code == "NOT_FOUND"
    malformed = await api.gql(
        UPDATE_DOCTOR, {"id": "12345", "input": {"consultationFee": 1}}, api.admin.token
    )
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "id"
    assert (await api.gql(DOCTOR, {"id": UNKNOWN_ID})).code == "NOT_FOUND"


async def test_inactive_doctor_is_hidden_unless_asked_for(api: Api) -> None:
    specialty = await new_specialty(api)
    active = await new_doctor(api, specialty["id"])
    retired = await new_doctor(api, specialty["id"])
    listed = (await api.gql(DOCTORS, {"specialtyId": specialty["id"]})).data["doctors"]
    assert {d["id"] for d in listed} == {active["id"], retired["id"]}

    updated = (
        await api.gql(
            UPDATE_DOCTOR, {"id": retired["id"], "input": {"isActive": False}}, api.admin.token
        )
    ).data["updateDoctor"]
    assert updated["isActive"] is False

    listed = (await api.gql(DOCTORS, {"specialtyId": specialty["id"]})).data["doctors"]
    assert [d["id"] for d in listed] == [active["id"]]
    everyone = (await api.gql("query { doctors { id } }")).data["doctors"]
    assert retired["id"] not in {d["id"] for d in everyone}
    assert active["id"] in {d["id"] for d in everyone}
    with_inactive = (
        await api.gql(DOCTORS, {"specialtyId": specialty["id"], "includeInactive": True})
    ).data["doctors"]
    assert {d["id"]: d["isActive"] for d in with_inactive} == {
        active["id"]: True,
        retired["id"]: False,
    }
    assert all(d["specialty"]["id"] == specialty["id"] for d in with_inactive)
    assert (await api.gql(DOCTOR, {"id": retired["id"]})).data["doctor"]["isActive"] is False


async def test_doctors_malformed_specialty_id(api: Api) -> None:
    for variables in ({"specialtyId": "zzz"}, {"specialtyId": "zzz", "date": future_day()}):
        reply = await api.gql(DOCTORS, variables)
        assert reply.code == "BAD_USER_INPUT"
        assert reply.error["extensions"]["field"] == "specialtyId"


# --- bookable doctors and slots on a date --------------------------------------------------


async def create_slots(api: Api, clinic: Clinic, day: str, *starts: str) -> dict[str, str]:
    """Thirty-minute slots at the given start times; start time -> slot id."""
    ids: dict[str, str] = {}
    for start in starts:
        hour, minute = (int(part) for part in start.split(":"))
        end = (datetime(2000, 1, 1, hour, minute) + timedelta(minutes=30)).strftime("%H:%M")
        ids[start] = (await api.slot(clinic, start, end, day))["id"]
    return ids


async def test_doctors_on_a_date_with_their_bookable_slots(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    day = future_day(9)
    clinic = await api.clinic()
    # Created out of order, to see that the answer is ordered by start.
    slots = await create_slots(
        api, clinic, day, "14:00", "09:00", "11:00", "10:00", "12:00", "13:00", "08:00"
    )
    await create_slots(api, clinic, future_day(10), "09:00")  # another day
    locker, booker = await api.patient(), await api.patient()
    assert (await api.lock(slots["10:00"], locker)).data["lockSlot"]["state"] == "LOCKED"
    assert (await api.book(slots["11:00"], booker)).data["bookAppointment"]["status"] == (
        "SCHEDULED"
    )
    await api.gql(SET_AVAILABILITY, {"id": slots["12:00"], "isAvailable": False}, api.admin.token)
    await api.gql(
        "mutation($id: ID!) { removeSlot(id: $id) { id } }", {"id": slots["13:00"]}, api.admin.token
    )
    # A slot whose start has passed is not bookable any more (time moved on).
    await store["slots"].update_one(
        {"_id": ObjectId(slots["08:00"])},
        {"$set": {"starts_at": datetime.now(UTC) - timedelta(minutes=1)}},
    )

    # A second doctor of the specialty: one with only a locked slot that day, one with none.
    busy = await api.gql(
        CREATE_DOCTOR_FULL, {"input": doctor_input(clinic.specialty_id)}, api.admin.token
    )
    busy_clinic = Clinic(clinic.specialty_id, busy.data["createDoctor"]["id"], "", "")
    busy_slot = await create_slots(api, busy_clinic, day, "09:00")
    assert (await api.lock(busy_slot["09:00"], booker)).data["lockSlot"]["state"] == "LOCKED"
    await new_doctor(api, clinic.specialty_id)

    expected = [slots["09:00"], slots["14:00"]]
    for token in (None, locker.token, api.admin.token, clinic.doctor_token):
        found = (
            await api.gql(DOCTORS_ON_DAY, {"specialtyId": clinic.specialty_id, "date": day}, token)
        ).data["doctors"]
        assert [d["id"] for d in found] == [clinic.doctor_id]
        doctor = found[0]
        assert doctor["specialty"]["id"] == clinic.specialty_id
        listed = doctor["availableSlots"]
        assert [s["id"] for s in listed] == expected
        assert all(s["state"] == "AVAILABLE" and s["date"] == day for s in listed)
        assert all(s["doctor"]["id"] == clinic.doctor_id for s in listed)
        assert listed[0]["startsAt"] < listed[1]["startsAt"]

        direct = (
            await api.gql(AVAILABLE_SLOTS, {"doctorId": clinic.doctor_id, "date": day}, token)
        ).data["availableSlots"]
        assert [s["id"] for s in direct] == expected
        assert all(s["isAvailable"] and not s["isBooked"] for s in direct)

    # Without a specialty, the date still filters: the busy doctor is absent.
    anywhere = (await api.gql(DOCTORS_ON_DAY, {"date": day})).data["doctors"]
    ids = {d["id"] for d in anywhere}
    assert clinic.doctor_id in ids
    assert busy_clinic.doctor_id not in ids

    # Once the lock is released, the busy doctor becomes bookable again.
    await api.gql(
        "mutation($slotId: ID!) { unlockSlot(slotId: $slotId) { id } }",
        {"slotId": busy_slot["09:00"]},
        booker.token,
    )
    found = (await api.gql(DOCTORS_ON_DAY, {"specialtyId": clinic.specialty_id, "date": day})).data[
        "doctors"
    ]
    assert {d["id"] for d in found} == {clinic.doctor_id, busy_clinic.doctor_id}


async def test_doctors_on_a_date_leave_out_inactive_doctors(api: Api) -> None:
    day = future_day(11)
    clinic = await api.clinic()
    await create_slots(api, clinic, day, "09:00")
    found = (await api.gql(DOCTORS_ON_DAY, {"specialtyId": clinic.specialty_id, "date": day})).data[
        "doctors"
    ]
    assert [d["id"] for d in found] == [clinic.doctor_id]
    await api.gql(
        UPDATE_DOCTOR, {"id": clinic.doctor_id, "input": {"isActive": False}}, api.admin.token
    )
    found = (await api.gql(DOCTORS_ON_DAY, {"specialtyId": clinic.specialty_id, "date": day})).data[
        "doctors"
    ]
    assert found == []


async def test_doctor_with_no_slots_that_day_is_not_listed(api: Api) -> None:
    clinic = await api.clinic()
    await create_slots(api, clinic, future_day(12), "09:00")
    found = (
        await api.gql(DOCTORS_ON_DAY, {"specialtyId": clinic.specialty_id, "date": future_day(13)})
    ).data["doctors"]
    assert found == []
    # Without a date, every active doctor of the specialty is listed.
    listed = (await api.gql(DOCTORS, {"specialtyId": clinic.specialty_id})).data["doctors"]
    assert [d["id"] for d in listed] == [clinic.doctor_id]


async def test_available_slots_by_doctor_errors(api: Api) -> None:
    unknown = await api.gql(AVAILABLE_SLOTS, {"doctorId": UNKNOWN_ID, "date": future_day()})
    assert unknown.code == "NOT_FOUND"
    malformed = await api.gql(AVAILABLE_SLOTS, {"doctorId": "x", "date": future_day()})
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "doctorId"
    bad_date = await api.gql(AVAILABLE_SLOTS, {"doctorId": UNKNOWN_ID, "date": "2026-02-30"})
    assert bad_date.code == "BAD_USER_INPUT"


async def test_doctor_specialty_resolves_everywhere(api: Api) -> None:
    clinic = await api.clinic()
    name = (await api.gql(SPECIALTY, {"id": clinic.specialty_id})).data["specialty"]["name"]
    doctor = (await api.gql(DOCTOR, {"id": clinic.doctor_id})).data["doctor"]
    assert doctor["specialty"] == {"id": clinic.specialty_id, "name": name}
    listed = (await api.gql(DOCTORS, {"specialtyId": clinic.specialty_id})).data["doctors"]
    assert listed[0]["specialty"] == {"id": clinic.specialty_id, "name": name}


# --- role boundaries -----------------------------------------------------------------------


ADMIN_OPERATIONS: list[tuple[str, str]] = [
    ("createSpecialty", CREATE_SPECIALTY_FULL),
    ("updateSpecialty", UPDATE_SPECIALTY),
    ("createDoctor", CREATE_DOCTOR_FULL),
    ("updateDoctor", UPDATE_DOCTOR),
]


def admin_variables(operation: str, clinic: Clinic) -> dict[str, Any]:
    if operation == "createSpecialty":
        return {"input": {"name": unique("Forbidden ")}}
    if operation == "updateSpecialty":
        return {
            "id": clinic.specialty_id,
            "input": {"name": unique("Hijacked "), "isActive": False},
        }
    if operation == "createDoctor":
        return {"input": doctor_input(clinic.specialty_id, password="doctor-password")}
    return {"id": clinic.doctor_id, "input": {"consultationFee": 1, "isActive": False}}


@pytest.mark.parametrize("caller", ["patient", "doctor", "anonymous"])
@pytest.mark.parametrize(
    ("operation", "mutation"), ADMIN_OPERATIONS, ids=[op for op, _ in ADMIN_OPERATIONS]
)
async def test_only_admins_manage_the_catalogue(
    api: Api, gql: GraphQL, store: AsyncDatabase[Any], caller: str, operation: str, mutation: str
) -> None:
    clinic = await api.clinic()
    patient: Person = await api.patient()
    token = {"patient": patient.token, "doctor": clinic.doctor_token, "anonymous": None}[caller]
    specialties_before = await store["specialties"].count_documents({})
    doctors_before = await store["doctors"].count_documents({})
    specialty_before = (await gql(SPECIALTY, {"id": clinic.specialty_id})).data["specialty"]
    doctor_before = (await gql(DOCTOR, {"id": clinic.doctor_id})).data["doctor"]

    reply = await gql(mutation, admin_variables(operation, clinic), token)
    assert reply.code == ("UNAUTHENTICATED" if caller == "anonymous" else "FORBIDDEN"), reply.body
    assert reply.body.get("data") is None

    assert await store["specialties"].count_documents({}) == specialties_before
    assert await store["doctors"].count_documents({}) == doctors_before
    specialty_after = (await gql(SPECIALTY, {"id": clinic.specialty_id})).data["specialty"]
    assert specialty_after == specialty_before
    assert (await gql(DOCTOR, {"id": clinic.doctor_id})).data["doctor"] == doctor_before


async def test_a_doctors_open_slots_follow_it_to_a_new_specialty(api: Api) -> None:
    """Patients search by specialty: moving a doctor must not strand its open slots."""
    clinic = await api.clinic()
    slot = await api.slot(clinic, "10:00", "10:30")
    moved_to = await new_specialty(api)
    update = """mutation($id: ID!, $input: DoctorUpdateInput!) {
      updateDoctor(id: $id, input: $input) { id }
    }"""
    moved = await api.gql(
        update, {"id": clinic.doctor_id, "input": {"specialtyId": moved_to["id"]}}, api.admin.token
    )
    assert moved.data["updateDoctor"]["id"] == clinic.doctor_id
    search = """query($s: ID, $d: Date!) {
      doctors(specialtyId: $s, date: $d) { id availableSlots(date: $d) { id specialty { id } } }
    }"""
    found = (await api.gql(search, {"s": moved_to["id"], "d": slot["date"]})).data["doctors"]
    assert [d["id"] for d in found] == [clinic.doctor_id]
    assert found[0]["availableSlots"] == [{"id": slot["id"], "specialty": {"id": moved_to["id"]}}]
    old = (await api.gql(search, {"s": clinic.specialty_id, "d": slot["date"]})).data["doctors"]
    assert clinic.doctor_id not in [d["id"] for d in old]

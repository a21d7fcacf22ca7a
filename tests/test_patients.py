"""The front desk finds and registers patients: `patients(search:)` and `registerPatient`."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.store.migrations import key_patients
from tests.graphql_client import REGISTER, Api, GraphQL
from tests.servers import ApiServer

Store = AsyncDatabase[dict[str, Any]]

REGISTER_PATIENT = """mutation($input: PatientInput!) {
  registerPatient(input: $input) { id name email phone role }
}"""
PATIENTS = """query($search: String!, $first: Int, $after: String) {
  patients(search: $search, first: $first, after: $after) {
    edges { cursor node { id name email phone role } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def word() -> str:
    """A surname no other test uses, so searches see only this test's patients."""
    return "q" + uuid.uuid4().hex[:9]


async def walk_in(api: Api, **fields: Any) -> dict[str, Any]:
    reply = await api.gql(REGISTER_PATIENT, {"input": fields}, api.admin.token)
    return dict(reply.data["registerPatient"])


async def found(api: Api, search: str, gql: GraphQL | None = None, **extra: Any) -> list[str]:
    reply = await (gql or api.gql)(PATIENTS, {"search": search, **extra}, api.admin.token)
    return [edge["node"]["name"] for edge in reply.data["patients"]["edges"]]


async def test_a_walk_in_with_only_a_phone_is_found_by_name_phone_and_accentless_prefix(
    api: Api,
) -> None:
    surname = word()
    patient = await walk_in(api, name=f"José {surname.capitalize()}", phone="98765 43210")
    assert patient["email"] is None
    assert patient["phone"] == "+91 98765 43210"
    assert patient["role"] == "PATIENT"
    name = patient["name"]
    assert await found(api, f"jose {surname[:5]}") == [name]
    assert await found(api, f"JOSÉ {surname.upper()}") == [name]
    assert await found(api, f"{surname[:4]} jo") == [name]
    assert await found(api, f"{surname} 876543") == [name]
    assert await found(api, f"{surname} 6543") == [name]
    assert await found(api, f"{surname} maria") == []


async def test_found_by_email_words_and_by_a_phone_written_with_its_country_code(
    api: Api,
) -> None:
    surname = word()
    patient = await walk_in(
        api, name=f"Ana {surname}", email=f"ana.{surname}@Example.com", phone="+44 20 7946 0958"
    )
    assert patient["email"] == f"ana.{surname}@example.com"
    assert patient["phone"] == "+44 20 7946 0958"
    assert await found(api, f"ana.{surname[:6]}") == [patient["name"]]
    assert await found(api, f"{surname}@exam") == [patient["name"]]
    reply = await api.gql(PATIENTS, {"search": "+44 20 7946 0958"}, api.admin.token)
    ids = [edge["node"]["id"] for edge in reply.data["patients"]["edges"]]
    assert patient["id"] in ids


async def test_several_walk_ins_without_email_and_pages_in_name_order(api: Api) -> None:
    surname = word()
    for first_name, phone in [("Carla", "91234 56780"), ("Bela", "91234 56781"), ("Adi", "")]:
        fields = {"name": f"{first_name} {surname}", "phone": phone or None}
        if not phone:
            fields["email"] = f"{surname}@example.org"
        await walk_in(api, **fields)
    reply = await api.gql(PATIENTS, {"search": surname, "first": 2}, api.admin.token)
    page = reply.data["patients"]
    assert [e["node"]["name"] for e in page["edges"]] == [f"Adi {surname}", f"Bela {surname}"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await api.gql(
        PATIENTS,
        {"search": surname, "first": 2, "after": page["pageInfo"]["endCursor"]},
        api.admin.token,
    )
    assert [e["node"]["name"] for e in rest.data["patients"]["edges"]] == [f"Carla {surname}"]
    assert rest.data["patients"]["pageInfo"]["hasNextPage"] is False


async def test_a_patient_registered_on_one_process_is_found_on_the_other(
    api: Api, gql_b: GraphQL
) -> None:
    surname = word()
    assert await found(api, surname, gql_b) == []  # the other process holds its directory now
    patient = await walk_in(api, name=f"Ravi {surname}", phone="+91 99887 76655")
    assert await found(api, surname, gql_b) == [patient["name"]]


async def test_patients_registered_after_a_search_join_it_in_name_order(
    api: Api, gql_b: GraphQL
) -> None:
    surname = word()
    for first_name in ("Meera", "Bina"):
        await walk_in(api, name=f"{first_name} {surname}", phone="+91 98000 00001")
    assert await found(api, surname, gql_b) == [f"Bina {surname}", f"Meera {surname}"]
    for first_name in ("Zoya", "Amit", "Kavya"):
        await walk_in(api, name=f"{first_name} {surname}", phone="+91 98000 00002")
    names = [f"{n} {surname}" for n in ("Amit", "Bina", "Kavya", "Meera", "Zoya")]
    for gql in (api.gql, gql_b):
        assert await found(api, surname, gql) == names
        page = await gql(PATIENTS, {"search": surname, "first": 2}, api.admin.token)
        cursor = page.data["patients"]["pageInfo"]["endCursor"]
        rest = await gql(PATIENTS, {"search": surname, "after": cursor}, api.admin.token)
        assert [e["node"]["name"] for e in rest.data["patients"]["edges"]] == names[2:]


async def test_self_registered_patients_are_found_and_doctors_are_not(api: Api) -> None:
    surname = word()
    reply = await api.gql(
        REGISTER,
        {
            "input": {
                "email": f"{surname}@example.com",
                "password": "patient-password",
                "name": f"Élodie {surname}",
                "phone": "+1 415 555 2671",
            }
        },
    )
    assert reply.data["register"]["user"]["role"] == "PATIENT"
    clinic = await api.clinic()
    await api.gql(
        "mutation($id: ID!, $input: DoctorUpdateInput!) { updateDoctor(id: $id, input: $input)"
        " { id } }",
        {"id": clinic.doctor_id, "input": {"name": f"Dr. {surname}"}},
        api.admin.token,
    )
    assert await found(api, f"elodie {surname}") == [f"Élodie {surname}"]
    assert await found(api, surname) == [f"Élodie {surname}"]


async def test_the_start_up_migration_keys_patients_stored_before_search(
    api: Api, store: Store, store_uri: str, db_name: str, log_dir: Path
) -> None:
    surname = word()
    await store["users"].insert_one(
        {
            "_id": ObjectId(),
            "email": f"{surname}@old.example.com",
            "password_hash": None,
            "name": f"Old {surname}",
            "phone": "+919812345678",
            "role": "PATIENT",
        }
    )
    assert await found(api, surname) == []
    counter = await store["counters"].find_one({"_id": "patient_directory"})
    await key_patients(store)
    stored = await store["users"].find_one({"name": f"Old {surname}"})
    assert stored is not None
    assert {"old", surname, f"{surname}@old.example.com", "12345678"} <= set(stored["search_keys"])
    moved = await store["counters"].find_one({"_id": "patient_directory"})
    assert moved is not None and moved["version"] > (counter or {"version": 0})["version"]
    # A process started after the migration (as every process runs it at start-up) finds it.
    started = ApiServer(store_uri, db_name).start(log_dir)
    try:
        fresh = GraphQL(api.gql.http, started.url)
        assert await found(api, f"old {surname}", fresh) == [f"Old {surname}"]
        assert await found(api, f"{surname} 981234", fresh) == [f"Old {surname}"]
    finally:
        started.stop()


REFUSED_PATIENTS = [
    ({"name": "No Contact"}, "phone"),
    ({"name": "Short Phone", "phone": "12345"}, "phone"),
    ({"name": "Words Phone", "phone": "call me maybe"}, "phone"),
    ({"name": "Bad Email", "email": "not-an-email"}, "email"),
    ({"name": "   ", "phone": "98765 43210"}, "name"),
    ({"name": "Bad Zone", "phone": "98765 43210", "timezone": "Mars/Base"}, "timezone"),
    ({"name": "Unborn", "phone": "98765 43210", "dateOfBirth": "2999-01-01"}, "dateOfBirth"),
]


@pytest.mark.parametrize(("fields", "field"), REFUSED_PATIENTS)
async def test_register_patient_refusals_name_the_field_and_write_nothing(
    api: Api, store: Store, fields: dict[str, Any], field: str
) -> None:
    marker = word()
    fields = {**fields, "name": f"{fields['name']} {marker}" if fields["name"].strip() else ""}
    before = await store["users"].count_documents({})
    reply = await api.gql(REGISTER_PATIENT, {"input": fields}, api.admin.token)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == field
    assert reply.body["data"] is None
    assert await store["users"].count_documents({"name": {"$regex": marker}}) == 0
    assert await store["users"].count_documents({}) >= before


async def test_only_an_admin_registers_or_searches_patients(api: Api) -> None:
    patient = await api.patient()
    clinic = await api.clinic()
    for token in (patient.token, clinic.doctor_token):
        reply = await api.gql(
            REGISTER_PATIENT, {"input": {"name": "X", "phone": "98765 43210"}}, token
        )
        assert reply.code == "FORBIDDEN"
        assert (await api.gql(PATIENTS, {"search": "x"}, token)).code == "FORBIDDEN"
    assert (await api.gql(PATIENTS, {"search": "x"})).code == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"search": "   "}, "search"),
        ({"search": "--"}, "search"),
        ({"search": "a" * 101}, "search"),
        ({"search": "ana", "first": 0}, "first"),
        ({"search": "ana", "first": 101}, "first"),
        ({"search": "ana", "after": "not a cursor"}, "after"),
    ],
)
async def test_search_refusals_name_the_field(
    api: Api, variables: dict[str, Any], field: str
) -> None:
    reply = await api.gql(PATIENTS, variables, api.admin.token)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == field


async def test_self_registration_parses_the_phone_too(api: Api) -> None:
    surname = word()
    refused = await api.gql(
        REGISTER,
        {
            "input": {
                "email": f"{surname}@example.com",
                "password": "patient-password",
                "name": surname,
                "phone": "12345",
            }
        },
    )
    assert refused.code == "BAD_USER_INPUT"
    assert refused.error["extensions"]["field"] == "phone"
    accepted = await api.gql(
        REGISTER,
        {
            "input": {
                "email": f"{surname}@example.com",
                "password": "patient-password",
                "name": surname,
                "phone": "098765 43210",
            }
        },
    )
    token = accepted.data["register"]["accessToken"]
    me = await api.gql("{ me { phone email } }", token=token)
    assert me.data["me"] == {"phone": "+91 98765 43210", "email": f"{surname}@example.com"}

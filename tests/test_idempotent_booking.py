"""bookAppointment with an idempotencyKey: a retry returns the first appointment, even when
it races the first attempt on another API process; keys are per patient."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, GraphQL, Response, future_day

Store = AsyncDatabase[dict[str, Any]]

BOOK = """mutation($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status endTime patient { id } slot { id state } }
}"""


async def book(gql: GraphQL, token: str, slot_id: str, **extra: Any) -> Response:
    """Sent as ASCII JSON, so that strings with lone surrogates travel as `\\ud800` escapes."""
    body = {"query": BOOK, "variables": {"input": {"slotId": slot_id, **extra}}}
    reply = await gql.http.post(
        gql.url,
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return Response(reply.json(), reply.status_code)


async def test_the_same_key_twice_returns_the_first_appointment(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()

    first = (await book(api.gql, patient.token, slot["id"], idempotencyKey="order-1")).data
    again = (await book(api.gql, patient.token, slot["id"], idempotencyKey="order-1")).data
    assert again == first
    assert first["bookAppointment"]["slot"]["state"] == "BOOKED"
    stored = await store.appointments.find({"patient_id": ObjectId(patient.id)}).to_list()
    assert [str(a["_id"]) for a in stored] == [first["bookAppointment"]["id"]]
    assert stored[0]["idempotency_key"] == f"{patient.id}|order-1"


async def test_a_reused_key_returns_its_appointment_whatever_the_slot(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30")
    other = await api.slot(clinic, "11:00", "11:30")
    patient = await api.patient()
    first = (await book(api.gql, patient.token, slot["id"], idempotencyKey="k")).data
    again = (await book(api.gql, patient.token, other["id"], idempotencyKey="k")).data
    assert again["bookAppointment"]["id"] == first["bookAppointment"]["id"]
    assert (await store.slots.find_one({"_id": ObjectId(other["id"])}))["is_booked"] is False
    # Without the key the second slot books as usual.
    assert (await book(api.gql, patient.token, other["id"])).data["bookAppointment"]["id"] != (
        first["bookAppointment"]["id"]
    )


async def test_concurrent_retries_with_one_key_make_one_appointment(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    replies = await asyncio.gather(
        *(
            book(gql if i % 2 else gql_b, patient.token, slot["id"], idempotencyKey="retry-me")
            for i in range(8)
        )
    )
    ids = {r.data["bookAppointment"]["id"] for r in replies}
    assert len(ids) == 1, [r.body for r in replies]
    stored = await store.appointments.find({"slot_id": ObjectId(slot["id"])}).to_list()
    assert [str(a["_id"]) for a in stored] == list(ids)
    assert (await store.slots.find_one({"_id": ObjectId(slot["id"])}))["is_booked"] is True


async def test_a_key_race_on_different_slots_leaves_one_booking_and_no_stray_claim(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Store
) -> None:
    """The loser of the key's unique index must give back the slot it had claimed."""
    clinic = await api.clinic()
    slots = [await api.slot(clinic, f"{8 + i:02d}:00", f"{8 + i:02d}:30") for i in range(4)]
    patient = await api.patient()
    replies = await asyncio.gather(
        *(
            book(gql if i % 2 else gql_b, patient.token, s["id"], idempotencyKey="one-of-four")
            for i, s in enumerate(slots)
        )
    )
    ids = {r.data["bookAppointment"]["id"] for r in replies}
    assert len(ids) == 1, [r.body for r in replies]
    slot_ids = [ObjectId(s["id"]) for s in slots]
    assert await store.appointments.count_documents({"slot_id": {"$in": slot_ids}}) == 1
    assert await store.slots.count_documents({"_id": {"$in": slot_ids}, "is_booked": True}) == 1


async def test_another_patients_identical_key_is_its_own(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    first_slot = await api.slot(clinic, "09:00", "09:30")
    second_slot = await api.slot(clinic, "10:00", "10:30")
    one, two = await api.patient(), await api.patient()
    a = (await book(api.gql, one.token, first_slot["id"], idempotencyKey="same")).data
    b = (await book(api.gql, two.token, second_slot["id"], idempotencyKey="same")).data
    assert a["bookAppointment"]["id"] != b["bookAppointment"]["id"]
    assert b["bookAppointment"]["patient"]["id"] == two.id
    keys = {
        a["idempotency_key"]
        async for a in store.appointments.find(
            {"patient_id": {"$in": [ObjectId(one.id), ObjectId(two.id)]}}
        )
    }
    assert keys == {f"{one.id}|same", f"{two.id}|same"}


async def test_an_admin_booking_keys_by_the_patient(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    by_admin = await book(
        api.gql, api.admin.token, slot["id"], patientId=patient.id, idempotencyKey="desk-7"
    )
    by_patient = await book(api.gql, patient.token, slot["id"], idempotencyKey="desk-7")
    assert by_patient.data == by_admin.data


async def test_longest_and_unicode_keys_are_fine(api: Api) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    for i, key in enumerate(("x" * 128, "ключ ✓ 予約")):
        slot = await api.slot(clinic, f"{9 + i:02d}:00", f"{9 + i:02d}:30", day=future_day(4))
        reply = await book(api.gql, patient.token, slot["id"], idempotencyKey=key)
        assert reply.data["bookAppointment"]["slot"]["state"] == "BOOKED"


@pytest.mark.parametrize(
    "key",
    ["", "x" * 129, "line\nbreak", "nul\x00", "tab\t", "\ud800", "bell\x07", "\u200b"],
)
async def test_bad_keys_are_refused_and_nothing_written(api: Api, store: Store, key: str) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    reply = await book(api.gql, patient.token, slot["id"], idempotencyKey=key)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "idempotencyKey"
    assert await store.appointments.count_documents({"slot_id": ObjectId(slot["id"])}) == 0
    assert (await store.slots.find_one({"_id": ObjectId(slot["id"])}))["is_booked"] is False


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"idempotencyKey": 12}, "idempotencyKey"),
        ({"idempotencyKey": ["a"]}, "idempotencyKey"),
        ({"idempotencyKey": {"k": "v"}}, "idempotencyKey"),
        ({"reasonForVisit": "cough \ud83d"}, "reasonForVisit"),
        ({"doctorId": "not-an-id", "idempotencyKey": "ok"}, "doctorId"),
        ({"slotId": "\ud800"}, "slotId"),
    ],
)
async def test_bad_booking_input_is_refused_and_nothing_written(
    api: Api, store: Store, extra: dict[str, Any], field: str
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    reply = await book(api.gql, patient.token, slot["id"], **extra)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"].get("field") == field
    assert await store.appointments.count_documents({"patient_id": ObjectId(patient.id)}) == 0
    assert (await store.slots.find_one({"_id": ObjectId(slot["id"])}))["is_booked"] is False

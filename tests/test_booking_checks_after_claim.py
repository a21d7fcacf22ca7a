"""bookAppointment claims first and checks after (app/domain/booking/bookings.py): a claim
that the doctor, the booking window, `doctorId` or the patient's overlap check refuses is
given back with the slot exactly as it was, the patient's own lock on it included, and
nothing in the log says it was ever booked."""

from __future__ import annotations

import asyncio
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, GraphQL, future_day
from tests.notification_sinks import until
from tests.test_booking import SET_DOCTOR_ACTIVE
from tests.test_booking_policy import set_policy

Store = AsyncDatabase[dict[str, Any]]
LOG = """query($id: ID!) { auditLog(entityId: $id, first: 100) { edges { node { action } } } }"""


async def settled_slot(store: Store, slot_id: str) -> dict[str, Any]:
    """The slot once its lock's audit entry has left it for the log."""

    async def settled() -> dict[str, Any] | None:
        found = await store.slots.find_one({"_id": ObjectId(slot_id)})
        return None if found is None or "audit_owed" in found else found

    return await until(settled, within=10)


async def actions(api: Api, entity_id: str) -> list[str]:
    reply = await api.gql(LOG, {"id": entity_id}, api.admin.token)
    return [edge["node"]["action"] for edge in reply.data["auditLog"]["edges"]]


async def test_each_check_after_the_claim_gives_the_slot_back_as_it_was(
    api: Api, store: Store
) -> None:
    day = future_day(9)
    clinic, other = await api.clinic(), await api.clinic()
    patient = await api.patient()
    first = await api.slot(other, "09:00", "09:30", day)
    assert (await api.book(first["id"], patient)).data["bookAppointment"]
    overlapping = await api.slot(clinic, "09:00", "09:30", day)
    free = await api.slot(clinic, "10:00", "10:30", day)
    assert (await api.lock(overlapping["id"], patient)).data["lockSlot"]
    held = await settled_slot(store, overlapping["id"])
    untouched = await settled_slot(store, free["id"])

    refusals = [
        await api.book(overlapping["id"], patient),
        await api.book(free["id"], patient, doctorId=other.doctor_id),
    ]
    await set_policy(api, clinic, maxDaysAhead=5)
    refusals.append(await api.book(overlapping["id"], patient))
    await set_policy(api, clinic, maxDaysAhead=90)
    await api.gql(SET_DOCTOR_ACTIVE, {"id": clinic.doctor_id, "active": False}, api.admin.token)
    refusals.append(await api.book(free["id"], patient))

    assert [(reply.code, reply.error.get("extensions", {}).get("field")) for reply in refusals] == [
        ("CONFLICT", "slotId"),
        ("BAD_USER_INPUT", "doctorId"),
        ("OUTSIDE_BOOKING_WINDOW", None),
        ("SLOT_UNAVAILABLE", None),
    ]
    assert await store.slots.find_one({"_id": ObjectId(overlapping["id"])}) == held
    assert await store.slots.find_one({"_id": ObjectId(free["id"])}) == untouched
    assert held["booking_lock"]["patient_id"] == ObjectId(patient.id)
    assert await actions(api, overlapping["id"]) == ["slot.created", "slot.locked"]
    assert await actions(api, free["id"]) == ["slot.created"]
    assert (
        await store.appointments.count_documents(
            {"slot_id": {"$in": [ObjectId(overlapping["id"]), ObjectId(free["id"])]}}
        )
        == 0
    )


async def test_one_patient_booking_overlapping_slots_at_once_gets_one(
    api: Api, gql_b: GraphQL, store: Store
) -> None:
    """Eight slots of eight doctors at the same time, booked at once by one patient through
    two processes: the patient's lease lets one claim and overlap check at a time pass, so
    exactly one booking is made and every other slot is given back."""
    day = future_day(11)
    slots = [await api.slot(await api.clinic(), "09:00", "09:30", day) for _ in range(8)]
    patient = await api.patient()
    via_b = Api(gql_b, api.admin)

    replies = await asyncio.gather(
        *((api if i % 2 else via_b).book(slot["id"], patient) for i, slot in enumerate(slots))
    )

    booked = [r for r in replies if not r.body.get("errors")]
    assert len(booked) == 1, [r.body for r in replies]
    assert sorted(r.code for r in replies if r.body.get("errors")) == ["CONFLICT"] * 7
    winner = booked[0].data["bookAppointment"]["slot"]["id"]
    for slot in slots:
        stored = await store.slots.find_one({"_id": ObjectId(slot["id"])})
        assert stored is not None
        assert stored["is_booked"] is (slot["id"] == winner)
    assert await store.appointments.count_documents({"patient_id": ObjectId(patient.id)}) == 1

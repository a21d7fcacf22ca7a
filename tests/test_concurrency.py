"""No double booking under a rush, with two API processes sharing one store."""

from __future__ import annotations

import asyncio
from typing import Any

from bson import ObjectId

from tests.graphql_client import Api, GraphQL, Person

RUSH = 50
LOSING_CODES = {"SLOT_LOCKED", "SLOT_ALREADY_BOOKED"}


async def _patients(api: Api, count: int) -> list[Person]:
    return list(await asyncio.gather(*(api.patient(f"Rush {i}") for i in range(count))))


def _split(replies: list[Any], field: str) -> tuple[list[Any], list[str]]:
    winners = [r for r in replies if not r.body.get("errors") and r.body["data"][field]]
    codes = [r.code for r in replies if r.body.get("errors")]
    return winners, codes


async def test_fifty_patients_booking_one_slot_on_two_processes(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Any
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patients = await _patients(api, RUSH)
    book = "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"
    replies = await asyncio.gather(
        *(
            (gql if i % 2 else gql_b)(book, {"input": {"slotId": slot["id"]}}, p.token)
            for i, p in enumerate(patients)
        )
    )
    winners, codes = _split(list(replies), "bookAppointment")
    assert len(winners) == 1, [r.body for r in replies if not r.body.get("errors")]
    assert len(codes) == RUSH - 1
    assert set(codes) <= LOSING_CODES, codes
    active = await store.appointments.count_documents(
        {"slot_id": ObjectId(slot["id"]), "status": {"$ne": "CANCELLED"}}
    )
    assert active == 1
    stored = await store.slots.find_one({"_id": ObjectId(slot["id"])})
    assert stored["is_booked"] is True


async def test_fifty_patients_locking_one_slot_on_two_processes(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Any
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patients = await _patients(api, RUSH)
    lock = "mutation($slotId: ID!) { lockSlot(slotId: $slotId) { id lock { lockedByMe } } }"
    replies = await asyncio.gather(
        *(
            (gql if i % 2 else gql_b)(lock, {"slotId": slot["id"]}, p.token)
            for i, p in enumerate(patients)
        )
    )
    winners, codes = _split(list(replies), "lockSlot")
    assert len(winners) == 1
    assert winners[0].body["data"]["lockSlot"]["lock"]["lockedByMe"] is True
    assert len(codes) == RUSH - 1
    assert set(codes) <= LOSING_CODES, codes
    stored = await store.slots.find_one({"_id": ObjectId(slot["id"])})
    holder = next(p for p, r in zip(patients, replies, strict=True) if r in winners)
    assert str(stored["booking_lock"]["patient_id"]) == holder.id


async def test_lock_then_book_rush_books_each_slot_once(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Any
) -> None:
    """Many patients racing over a few slots, each locking then booking: one booking a slot."""
    clinic = await api.clinic()
    slots = [await api.slot(clinic, f"{9 + i:02d}:00", f"{9 + i:02d}:30") for i in range(3)]
    patients = await _patients(api, 12)

    outcomes: list[Any] = []

    async def attempt(i: int, patient: Person) -> None:
        client = gql if i % 2 else gql_b
        slot_id = slots[i % len(slots)]["id"]
        locked = await client(
            "mutation($s: ID!) { lockSlot(slotId: $s) { id } }", {"s": slot_id}, patient.token
        )
        outcomes.append(locked.body)
        if not locked.body.get("errors"):
            booked = await client(
                "mutation($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }",
                {"i": {"slotId": slot_id}},
                patient.token,
            )
            outcomes.append(booked.body)

    await asyncio.gather(*(attempt(i, p) for i, p in enumerate(patients)))
    for slot in slots:
        active = await store.appointments.count_documents(
            {"slot_id": ObjectId(slot["id"]), "status": {"$ne": "CANCELLED"}}
        )
        assert active == 1, outcomes

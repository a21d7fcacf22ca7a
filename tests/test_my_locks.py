"""myLocks through the HTTP endpoint: the caller's unexpired holds, by start, and nobody else's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, GraphQL, Person, Response, future_day
from tests.servers import ApiServer

Store = AsyncDatabase[dict[str, Any]]
SHORT_TTL_SECONDS = 2

MY_LOCKS = """query { myLocks { id startTime state lock { expiresAt lockedByMe } } }"""
UNLOCK = "mutation($slotId: ID!) { unlockSlot(slotId: $slotId) { id } }"


def succeeds(reply: Response) -> None:
    assert not reply.body.get("errors"), reply.body


async def my_locks(gql: GraphQL, who: Person | str | None) -> list[dict[str, Any]]:
    token = who.token if isinstance(who, Person) else who
    return list((await gql(MY_LOCKS, token=token)).data["myLocks"])


async def held_in_store(store: Store, patient: Person) -> set[str]:
    found = store["slots"].find(
        {
            "booking_lock.patient_id": ObjectId(patient.id),
            "booking_lock.is_active": True,
            "booking_lock.expires_at": {"$gt": datetime.now(UTC)},
        },
        {"_id": 1},
    )
    return {str(doc["_id"]) async for doc in found}


async def test_a_patient_sees_its_two_locks_by_start(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    later = await api.slot(clinic, "11:00", "11:30", day=future_day(6))
    sooner = await api.slot(clinic, "09:00", "09:30", day=future_day(6))
    other_slot = await api.slot(clinic, "10:00", "10:30", day=future_day(6))
    patient, other = await api.patient(), await api.patient()
    succeeds(await api.lock(later["id"], patient))
    succeeds(await api.lock(sooner["id"], patient))
    succeeds(await api.lock(other_slot["id"], other))

    mine = await my_locks(api.gql, patient)
    assert [(s["id"], s["state"], s["lock"]["lockedByMe"]) for s in mine] == [
        (sooner["id"], "LOCKED", True),
        (later["id"], "LOCKED", True),
    ]
    assert {s["id"] for s in mine} == await held_in_store(store, patient)
    assert [s["id"] for s in await my_locks(api.gql, other)] == [other_slot["id"]]

    succeeds(await api.gql(UNLOCK, {"slotId": sooner["id"]}, patient.token))
    assert [s["id"] for s in await my_locks(api.gql, patient)] == [later["id"]]

    succeeds(await api.book(later["id"], patient))  # a booked slot is no longer a hold
    assert await my_locks(api.gql, patient) == []
    assert await held_in_store(store, patient) == set()


async def test_doctors_and_admins_hold_no_locks(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30", day=future_day(6))
    patient = await api.patient()
    succeeds(await api.lock(slot["id"], patient, patient_id=None))
    assert await my_locks(api.gql, api.admin) == []
    assert await my_locks(api.gql, clinic.doctor_token) == []
    # A hold an admin takes on a patient's behalf is the patient's.
    other_slot = await api.slot(clinic, "10:00", "10:30", day=future_day(6))
    other = await api.patient()
    succeeds(await api.lock(other_slot["id"], api.admin, patient_id=other.id))
    assert await my_locks(api.gql, api.admin) == []
    assert [s["id"] for s in await my_locks(api.gql, other)] == [other_slot["id"]]


async def test_my_locks_needs_a_token(api: Api) -> None:
    reply = await api.gql(MY_LOCKS)
    assert reply.code == "UNAUTHENTICATED"
    assert reply.body["data"] is None
    reply = await api.gql(MY_LOCKS, token="not-a-token")
    assert reply.code == "UNAUTHENTICATED"


@pytest.fixture(scope="module")
def short_ttl_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    env = {"SLOT_LOCK_TTL_SECONDS": str(SHORT_TTL_SECONDS)}
    server = ApiServer(store_uri, db_name, env=env).start(log_dir)
    yield server
    server.stop()


async def test_an_expired_lock_is_not_listed(
    api: Api, http: httpx.AsyncClient, short_ttl_server: ApiServer, store: Store
) -> None:
    short = GraphQL(http, short_ttl_server.url)
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30", day=future_day(6))
    patient = await api.patient()
    locked = (await Api(short, api.admin).lock(slot["id"], patient)).data["lockSlot"]
    expires_at = datetime.fromisoformat(locked["lock"]["expiresAt"])
    assert [s["id"] for s in await my_locks(short, patient)] == [slot["id"]]

    await asyncio.sleep((expires_at - datetime.now(UTC)).total_seconds() + 0.2)

    assert await my_locks(short, patient) == []
    assert await my_locks(api.gql, patient) == []
    # Whether or not a sweeper has cleared it yet, the store holds no live lock for the patient.
    assert await held_in_store(store, patient) == set()

"""The appointments' index migration, run by every API process at start-up, on a database an
older version wrote.

The older version indexed appointments by (patient_id, starts_at) and (doctor_id, starts_at).
The embedded store uses an index for a single-field equality only, so a booking's overlap
check (by patient) scanned every appointment; the new version replaces both by single-field
indexes. A fresh database is filled the old way, then API servers start on it; the store is
read directly and the API is used to book and list.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from argon2 import PasswordHasher
from pymongo import ASCENDING

from tests.graphql_client import BOOK, LOGIN, Api, GraphQL
from tests.old_versions import (
    Store,
    assert_a_second_start_changes_nothing,
    keyed_slot,
    old_doctor,
    old_specialty,
    own_database,
)
from tests.servers import ApiServer

OLD_INDEXES = {
    "patient_id_1_starts_at_1": [("patient_id", ASCENDING), ("starts_at", ASCENDING)],
    "doctor_id_1_starts_at_1": [("doctor_id", ASCENDING), ("starts_at", ASCENDING)],
}
NEW_INDEXES = {
    "patient_appointments": [("patient_id", 1)],
    "doctor_appointments": [("doctor_id", 1)],
}
PASSWORD = "old-patient-password"
MY_APPOINTMENTS = "query { myAppointments { id appointmentTime slot { id } } }"
DOCTOR_APPOINTMENTS = """query($d: ID!) {
  appointments(doctorId: $d) { edges { node { id patient { id } } } }
}"""


@pytest_asyncio.fixture
async def old_store(store_uri: str) -> AsyncIterator[Store]:
    async with own_database(store_uri, "aayulink_appt_migration") as database:
        yield database


async def write_as_the_old_version(database: Store, day: date) -> dict[str, Any]:
    """Two doctors, one patient with one appointment at 09:00, and the old compound indexes."""
    for name, keys in OLD_INDEXES.items():
        await database["appointments"].create_index(keys, name=name)
    written_at = datetime.now(UTC) - timedelta(days=1)
    stamps = {"created_at": written_at, "updated_at": written_at}
    specialty = old_specialty("Old Medicine", written_at)
    specialty_id = (await database["specialties"].insert_one(specialty)).inserted_id
    run = uuid.uuid4().hex[:6]
    doctors = [
        old_doctor(
            specialty_id,
            f"Dr. Old {i}",
            f"dr.old.{run}.{i}@example.com",
            f"LIC-OLD-{run}-{i}",
            written_at,
        )
        for i in range(2)
    ]
    doctor_ids = (await database["doctors"].insert_many(doctors)).inserted_ids
    email = f"old-{run}@example.com"
    patient_id = (
        await database["users"].insert_one(
            {
                "email": email,
                "password_hash": PasswordHasher().hash(PASSWORD),
                "name": "Old Patient",
                "role": "PATIENT",
                **stamps,
            }
        )
    ).inserted_id
    booked = {**keyed_slot(doctor_ids[0], specialty_id, day, time(9, 0)), "is_booked": True}
    overlapping = keyed_slot(doctor_ids[1], specialty_id, day, time(9, 15))
    free = keyed_slot(doctor_ids[1], specialty_id, day, time(11, 0))
    slot_ids = (await database["slots"].insert_many([booked, overlapping, free])).inserted_ids
    appointment_id = (
        await database["appointments"].insert_one(
            {
                "patient_id": patient_id,
                "doctor_id": doctor_ids[0],
                "slot_id": slot_ids[0],
                "specialty_id": specialty_id,
                "appointment_date": day.isoformat(),
                "appointment_time": "09:00",
                "end_time": "09:30",
                "starts_at": booked["starts_at"],
                "ends_at": booked["ends_at"],
                "status": "SCHEDULED",
                **stamps,
            }
        )
    ).inserted_id
    return {
        "email": email,
        "patient_id": patient_id,
        "doctor_ids": doctor_ids,
        "slot_ids": slot_ids,
        "appointment_id": appointment_id,
    }


async def appointment_indexes(database: Store) -> dict[str, list[tuple[str, Any]]]:
    return {
        index["name"]: list(index["key"].items())
        async for index in await database["appointments"].list_indexes()
    }


async def test_old_appointment_indexes_are_replaced_at_start_up(
    old_store: Store, store_uri: str, log_dir: Path, http: httpx.AsyncClient
) -> None:
    day = date.today() + timedelta(days=6)
    old = await write_as_the_old_version(old_store, day)
    assert set(OLD_INDEXES) <= set(await appointment_indexes(old_store))

    server = ApiServer(store_uri, old_store.name).start(log_dir)
    try:
        # Through the store: the compound indexes gone, the single-field ones in their place,
        # and the guard against double booking untouched.
        indexes = await appointment_indexes(old_store)
        assert not set(OLD_INDEXES) & set(indexes), indexes
        for name, keys in NEW_INDEXES.items():
            assert indexes.get(name) == keys, indexes
        assert indexes["appointment_active_slot_unique"] == [("slot_id", 1)]

        # Through the API: the old appointment is found by its patient and its doctor...
        gql = GraphQL(http, server.url)
        login = await gql(LOGIN, {"email": old["email"], "password": PASSWORD})
        token = login.data["login"]["accessToken"]
        mine = (await gql(MY_APPOINTMENTS, {}, token)).data["myAppointments"]
        assert [a["id"] for a in mine] == [str(old["appointment_id"])]
        api = Api(gql, await Api.login_admin(gql))
        listed = await gql(DOCTOR_APPOINTMENTS, {"d": str(old["doctor_ids"][0])}, api.admin.token)
        nodes = [e["node"] for e in listed.data["appointments"]["edges"]]
        old_node = {"id": str(old["appointment_id"]), "patient": {"id": str(old["patient_id"])}}
        assert nodes == [old_node]

        # ...and still refuses an overlapping booking, writing nothing.
        overlapping, free = (str(i) for i in old["slot_ids"][1:])
        refused = await gql(BOOK, {"input": {"slotId": overlapping}}, token)
        assert refused.code == "CONFLICT" and refused.error["extensions"].get("field") == "slotId"
        slot = await old_store["slots"].find_one({"_id": old["slot_ids"][1]})
        assert slot is not None and slot["is_booked"] is False
        assert await old_store["appointments"].count_documents({}) == 1

        # A booking that does not overlap is made, and listed beside the old one.
        booked = (await gql(BOOK, {"input": {"slotId": free}}, token)).data["bookAppointment"]
        mine = (await gql(MY_APPOINTMENTS, {}, token)).data["myAppointments"]
        assert [a["id"] for a in mine] == [str(old["appointment_id"]), booked["id"]]
    finally:
        server.stop()

    await assert_a_second_start_changes_nothing(store_uri, old_store, log_dir, appointment_indexes)

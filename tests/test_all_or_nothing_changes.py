"""Schedule and doctor-wide changes on the SQLite store users run: all or nothing, in bulk.

Each failure is a real store refusal half-way through a change: API processes started with
FAULT_AFTER_STEP (APP_ENV=test only) make the store answer E11000 after the named step, and
the change must come back CHANGE_NOT_APPLIED with the doctor, its overrides and its slots
exactly as before. A healthy process then makes the same change, which must stand whole.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient

from app.store.embedded import EmbeddedStoreProcess
from tests.graphql_client import Api, Clinic, GraphQL, unique
from tests.schedule_helpers import (
    CLEAR_OVERRIDE,
    SET_OVERRIDE,
    UPDATE_DOCTOR,
    every_day,
    hours,
    live_slots,
    set_schedule,
)
from tests.servers import ApiServer
from tests.subscriptions_client import connect, until_ready

# Every regeneration fails once its slots are written, before the doctor or override is;
# the doctor-wide rewrite fails once written.
MIDWAY = "slots_added,specialty_moved"
# The last write of each change: everything was written, and all of it must be undone.
AT_THE_END = "schedule_saved,horizon_saved"
DOCTOR = """query($id: ID!) {
  doctor(id: $id) { id timezone isActive specialty { id }
    schedule { slotMinutes weekly { weekday ranges { start end } } } }
}"""
EVENTS = """subscription($doctorId: ID) {
  slotUpdates(doctorId: $doctorId) { kind slot { id } }
}"""
MISSED = "subscription { eventsMissed { reason doctorId } }"
SLOT_SPECIALTY = "query($id: ID!) { slot(id: $id) { specialty { id } } }"
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id }
}"""


@pytest.fixture(scope="module")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = EmbeddedStoreProcess("sqlite", tmp_path_factory.mktemp("sqlite-store"))
    yield store.start()
    store.stop()


@pytest.fixture(scope="module")
def servers(sqlite_uri: str, log_dir: Path) -> Iterator[dict[str, ApiServer]]:
    db_name = f"aayulink_changes_{uuid.uuid4().hex[:8]}"
    started: dict[str, ApiServer] = {}
    try:
        for name, env in (
            ("healthy", {}),
            (MIDWAY, {"FAULT_AFTER_STEP": MIDWAY}),
            (AT_THE_END, {"FAULT_AFTER_STEP": AT_THE_END}),
        ):
            started[name] = ApiServer(sqlite_uri, db_name, env=env).start(log_dir)
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest_asyncio.fixture(scope="module")
async def apis(servers: dict[str, ApiServer], http: httpx.AsyncClient) -> dict[str, Api]:
    admin = await Api.login_admin(GraphQL(http, servers["healthy"].url))
    return {name: Api(GraphQL(http, server.url), admin) for name, server in servers.items()}


@pytest_asyncio.fixture(scope="module")
async def sqlite_store(sqlite_uri: str, servers: dict[str, ApiServer]) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(sqlite_uri, tz_aware=True)
    yield client[servers["healthy"].db_name]
    await client.close()


async def snapshot(store: Any, doctor_id: str, with_stamps: bool = True) -> dict[str, Any]:
    """Everything a change may touch: the doctor (less its lease), its overrides, its slots
    (removed ones too), each field as stored."""
    oid = ObjectId(doctor_id)
    doctor = await store.doctors.find_one({"_id": oid})
    assert doctor is not None
    slots = await store.slots.find({"doctor_id": oid}).sort("_id", 1).to_list()
    if not with_stamps:
        for slot in slots:
            slot.pop("updated_at")
    return {
        "doctor": {k: v for k, v in doctor.items() if not k.startswith("guard_")},
        "overrides": await store.date_overrides.find({"doctor_id": oid}).sort("_id", 1).to_list(),
        "slots": slots,
    }


async def scheduled_clinic(api: Api, until: str = "12:00") -> Clinic:
    """A doctor working 09:00-12:00 (or `until`) every day in 30-minute slots: 360 (120)
    slots over 60 days. A slot write on this engine costs more the more slots the store
    holds, so the doctor-wide tests keep to 120, still past a bulk notice's 100."""
    clinic = await api.clinic()
    made = await set_schedule(api, clinic, slotMinutes=30, weekly=every_day(("09:00", until)))
    per_day = {"12:00": 6, "10:00": 2}[until]
    assert made.data["setSchedule"]["slotsAdded"] >= 59 * per_day
    return clinic


def refused(reply: Any) -> None:
    assert reply.code == "CHANGE_NOT_APPLIED", reply.body
    assert "nothing changed" in reply.error["message"]


@pytest.mark.parametrize("fault", [MIDWAY, AT_THE_END])
async def test_a_schedule_change_that_fails_half_way_changes_nothing(
    apis: dict[str, Api], sqlite_store: Any, fault: str
) -> None:
    clinic = await scheduled_clinic(apis["healthy"])
    before = await snapshot(sqlite_store, clinic.doctor_id)

    new_hours = every_day(("10:00", "13:00"))
    refused(await set_schedule(apis[fault], clinic, slotMinutes=30, weekly=new_hours))
    assert await snapshot(sqlite_store, clinic.doctor_id) == before

    changed = (await set_schedule(apis["healthy"], clinic, slotMinutes=30, weekly=new_hours)).data
    assert changed["setSchedule"]["slotsRemoved"] > 0
    assert changed["setSchedule"]["slotsAdded"] > 0
    starts = {s["start_time"] for s in await live_slots(sqlite_store, clinic.doctor_id)}
    assert starts == {"10:00", "10:30", "11:00", "11:30", "12:00", "12:30"}
    shown = (await apis["healthy"].gql(DOCTOR, {"id": clinic.doctor_id})).data["doctor"]
    assert shown["schedule"]["weekly"][0]["ranges"] == hours(("10:00", "13:00"))


@pytest.mark.parametrize("fault", [MIDWAY, AT_THE_END])
async def test_a_day_off_and_its_clearing_that_fail_change_nothing(
    apis: dict[str, Api], sqlite_store: Any, fault: str
) -> None:
    clinic = await scheduled_clinic(apis["healthy"])
    day = (date.today() + timedelta(days=5)).isoformat()
    day_off = {"doctorId": clinic.doctor_id, "date": day, "ranges": [], "reason": "Away"}
    before = await snapshot(sqlite_store, clinic.doctor_id)

    refused(await apis[fault].gql(SET_OVERRIDE, day_off, apis[fault].admin.token))
    assert await snapshot(sqlite_store, clinic.doctor_id) == before

    made = (await apis["healthy"].gql(SET_OVERRIDE, day_off, apis["healthy"].admin.token)).data
    assert made["setDateOverride"]["slotsRemoved"] == 6
    with_day_off = await snapshot(sqlite_store, clinic.doctor_id)
    assert [o["date"] for o in with_day_off["overrides"]] == [day]

    clear = {"doctorId": clinic.doctor_id, "date": day}
    refused(await apis[fault].gql(CLEAR_OVERRIDE, clear, apis[fault].admin.token))
    assert await snapshot(sqlite_store, clinic.doctor_id) == with_day_off

    cleared = (await apis["healthy"].gql(CLEAR_OVERRIDE, clear, apis["healthy"].admin.token)).data
    assert cleared["clearDateOverride"]["slotsAdded"] == 6
    assert (await snapshot(sqlite_store, clinic.doctor_id))["overrides"] == []


async def test_a_time_zone_move_that_fails_half_way_changes_nothing(
    apis: dict[str, Api], sqlite_store: Any
) -> None:
    clinic = await scheduled_clinic(apis["healthy"])
    before = await snapshot(sqlite_store, clinic.doctor_id)
    move = {"id": clinic.doctor_id, "input": {"timezone": "Asia/Kolkata"}}

    refused(await apis[MIDWAY].gql(UPDATE_DOCTOR, move, apis[MIDWAY].admin.token))
    assert await snapshot(sqlite_store, clinic.doctor_id) == before

    moved = (await apis["healthy"].gql(UPDATE_DOCTOR, move, apis["healthy"].admin.token)).data
    assert moved["updateDoctor"]["timezone"] == "Asia/Kolkata"
    slots = await live_slots(sqlite_store, clinic.doctor_id)
    # The same wall-clock hours, now in Kolkata: 09:00 there is 03:30 UTC.
    assert {s["start_time"] for s in slots} == {
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    }
    assert {s["starts_at"].strftime("%H:%M") for s in slots} >= {"03:30"}


async def test_a_dense_doctors_time_zone_move_that_fails_half_way_changes_nothing(
    apis: dict[str, Api], sqlite_store: Any
) -> None:
    """More slots than a move writes at once (1,100): it writes the first days and marks
    the rest. Failing half-way, it leaves neither those days nor the mark, and no roll."""
    api = apis["healthy"]
    clinic = await api.clinic()
    await set_schedule(api, clinic, slotMinutes=10, weekly=every_day(("09:00", "12:00")))
    before = await snapshot(sqlite_store, clinic.doctor_id)
    move = {"id": clinic.doctor_id, "input": {"timezone": "Asia/Kolkata"}}

    refused(await apis[MIDWAY].gql(UPDATE_DOCTOR, move, apis[MIDWAY].admin.token))
    assert await snapshot(sqlite_store, clinic.doctor_id) == before

    marked = """mutation($id: ID!, $input: DoctorUpdateInput!) {
      updateDoctor(id: $id, input: $input) { timezone slotsRegeneratingFrom }
    }"""
    moved = (await api.gql(marked, move, api.admin.token)).data["updateDoctor"]
    assert moved["timezone"] == "Asia/Kolkata" and moved["slotsRegeneratingFrom"] is not None


async def test_a_specialty_move_that_fails_half_way_changes_nothing(
    apis: dict[str, Api], sqlite_store: Any
) -> None:
    """Unbooked slots follow their doctor's specialty unwritten; the move writes a booked
    slot (it keeps its appointment's specialty) and a slot stored with the specialty spelled
    out (as all were before): both writes are undone when the move fails after them."""
    api = apis["healthy"]
    clinic = await scheduled_clinic(api, until="10:00")
    other = await api.clinic()
    change = {"specialtyId": other.specialty_id}
    slots = await live_slots(sqlite_store, clinic.doctor_id)
    spelled_out, followed, taken = slots[20]["_id"], slots[21]["_id"], slots[22]["_id"]
    await sqlite_store.slots.update_one(
        {"_id": spelled_out}, {"$set": {"specialty_id": ObjectId(clinic.specialty_id)}}
    )
    booking = await api.book(str(taken), await api.patient())
    appointment = booking.data["bookAppointment"]
    assert appointment["specialty"] == {"id": clinic.specialty_id}
    # The undo puts every field back; a slot's updated_at keeps the attempt's stamp.
    before = await snapshot(sqlite_store, clinic.doctor_id, with_stamps=False)
    update = {"id": clinic.doctor_id, "input": change}

    refused(await apis[MIDWAY].gql(UPDATE_DOCTOR, update, apis[MIDWAY].admin.token))
    after = await snapshot(sqlite_store, clinic.doctor_id, with_stamps=False)
    assert after == before

    _ = (await api.gql(UPDATE_DOCTOR, update, api.admin.token)).data
    for slot_id, specialty in (
        (followed, other.specialty_id),
        (spelled_out, other.specialty_id),
        (taken, clinic.specialty_id),
    ):
        shown = (await api.gql(SLOT_SPECIALTY, {"id": str(slot_id)})).data["slot"]
        assert shown["specialty"] == {"id": specialty}, slot_id
    stored = await sqlite_store.slots.find_one({"_id": spelled_out})
    assert stored.get("specialty_id") is None  # it follows the doctor from now on


async def test_deactivating_a_doctor_writes_the_doctor_alone(
    apis: dict[str, Api], sqlite_store: Any
) -> None:
    """Whether a doctor takes bookings is its own flag: however many slots it has, the switch
    is one write, so it cannot be left half-made (its slots' states follow it: test_booking)."""
    api = apis[MIDWAY]  # fails every doctor-wide slot rewrite: there is none to fail
    clinic = await scheduled_clinic(apis["healthy"], until="10:00")
    before = await snapshot(sqlite_store, clinic.doctor_id)
    for active in (False, True):
        update = {"id": clinic.doctor_id, "input": {"isActive": active}}
        assert (await api.gql(UPDATE_DOCTOR, update, api.admin.token)).data is not None
        after = await snapshot(sqlite_store, clinic.doctor_id)
        assert after["slots"] == before["slots"] and after["overrides"] == before["overrides"]
        assert after["doctor"]["is_active"] is active


async def test_deactivating_a_doctor_sends_one_bulk_notice_not_an_event_per_slot(
    apis: dict[str, Api], servers: dict[str, ApiServer], sqlite_store: Any
) -> None:
    api = apis["healthy"]
    clinic = await scheduled_clinic(api, until="10:00")
    probe_slot = (await live_slots(sqlite_store, clinic.doctor_id))[0]
    available = [True]

    async def probe() -> None:
        available[0] = not available[0]
        variables = {"id": str(probe_slot["_id"]), "isAvailable": available[0]}
        _ = (await api.gql(SET_AVAILABILITY, variables, api.admin.token)).data

    watcher = await api.patient("Watcher")
    async with connect(servers["healthy"].ws_url, watcher.token) as connection:
        missed = connection.subscribe(MISSED)
        events = connection.subscribe(
            EVENTS,
            {"doctorId": clinic.doctor_id},
            skip=lambda data: (
                data["slotUpdates"]["kind"] == "AVAILABILITY_CHANGED"
                and data["slotUpdates"]["slot"]["id"] == str(probe_slot["_id"])
            ),
        )
        await until_ready([events], probe)
        update = {"id": clinic.doctor_id, "input": {"isActive": False}}
        _ = (await api.gql(UPDATE_DOCTOR, update, api.admin.token)).data

        notice = await missed.next()
        assert notice["eventsMissed"] == {
            "reason": "SLOTS_CHANGED_IN_BULK",
            "doctorId": clinic.doctor_id,
        }
        # Reactivated: one more notice, and still not one event per slot on slotUpdates.
        update["input"] = {"isActive": True}
        _ = (await api.gql(UPDATE_DOCTOR, update, api.admin.token)).data
        assert (await missed.next())["eventsMissed"]["reason"] == "SLOTS_CHANGED_IN_BULK"
        assert [e for e in events.pending() if e is not None] == []
    assert len(await live_slots(sqlite_store, clinic.doctor_id)) > 100


async def test_five_thousand_doctors_in_one_answer(apis: dict[str, Api], sqlite_store: Any) -> None:
    """doctors { nextAvailableSlot } asks for every doctor's next slot at once: 5,000 ids
    go into the store's filters, which the SQLite engine refuses past about 492 values."""
    api = apis["healthy"]
    clinic = await scheduled_clinic(api, until="10:00")
    template = await sqlite_store.doctors.find_one({"_id": ObjectId(clinic.doctor_id)})
    assert template is not None
    template = {k: v for k, v in template.items() if not k.startswith("guard_")}
    # A one-day booking window: the look-ahead asks for their slots once, not once a step.
    template |= {"schedule": None, "horizon_end": None, "max_days_ahead": 1}
    copies = [
        {
            **template,
            "_id": ObjectId(),
            "email": f"{unique('many')}@example.com",
            "license_number": unique("MANY-"),
            "name": f"Dr. Many {n:05d}",
        }
        for n in range(4_999)
    ]
    await sqlite_store.doctors.insert_many(copies)
    # An admin edit tells every process's read model to read the doctors again.
    rename = {"id": clinic.doctor_id, "input": {"name": "Dr. Aaa First"}}
    _ = (await api.gql(UPDATE_DOCTOR, rename, api.admin.token)).data
    # Its own client: 25 filters of 200 ids a look-ahead step can outlast the shared
    # client's 60 s on a loaded machine (a bound on waiting, not a claim about speed).
    async with httpx.AsyncClient(timeout=600) as patient_client:
        reply = await GraphQL(patient_client, api.gql.url)(
            """query($specialtyId: ID) {
              doctors(specialtyId: $specialtyId) { id nextAvailableSlot { id } }
            }""",
            {"specialtyId": clinic.specialty_id},
            api.admin.token,
        )
    found = reply.data["doctors"]
    assert len(found) == 5_000
    with_slot = [d for d in found if d["nextAvailableSlot"] is not None]
    assert [d["id"] for d in with_slot] == [clinic.doctor_id]


async def test_a_change_removing_hundreds_of_slots_removes_them_in_pieces(
    apis: dict[str, Api], sqlite_store: Any
) -> None:
    """480 slot ids: more than one filter of app/store/chunks.py, past what the SQLite
    engine takes in one `$in` with the removal's other conditions."""
    api = apis["healthy"]
    clinic = await api.clinic()
    made = await set_schedule(api, clinic, slotMinutes=15, weekly=every_day(("09:00", "12:00")))
    assert made.data["setSchedule"]["slotsAdded"] >= 59 * 12
    narrowed = await set_schedule(api, clinic, slotMinutes=15, weekly=every_day(("09:00", "10:00")))
    assert narrowed.data["setSchedule"]["slotsRemoved"] >= 59 * 8
    starts = {s["start_time"] for s in await live_slots(sqlite_store, clinic.doctor_id)}
    assert starts == {"09:00", "09:15", "09:30", "09:45"}

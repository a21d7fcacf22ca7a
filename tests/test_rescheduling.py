"""rescheduleAppointment through the HTTP endpoint: moves, refusals that change nothing, races
across two API processes, events over WebSocket, and what a crash between writes leaves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import LOGIN, Api, Clinic, GraphQL, Person, future_day, unique
from tests.notification_sinks import until
from tests.servers import ApiServer
from tests.subscriptions_client import Payload, connect, until_ready
from tests.visit_clock import starts_in

Store = AsyncDatabase[dict[str, Any]]

RESCHEDULE = """mutation($id: ID!, $slotId: ID!) {
  rescheduleAppointment(id: $id, slotId: $slotId) {
    id status appointmentDate appointmentTime endTime
    patient { id } doctor { id } specialty { id } slot { id state isBooked }
  }
}"""
SET_STATUS = """mutation($id: ID!, $status: AppointmentStatus!) {
  updateAppointmentStatus(id: $id, status: $status) { id status }
}"""
CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"""
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id state }
}"""
REMOVE_SLOT = """mutation($id: ID!) { removeSlot(id: $id) { id } }"""
UPDATE_DOCTOR = """mutation($id: ID!, $input: DoctorUpdateInput!) {
  updateDoctor(id: $id, input: $input) { id }
}"""
CREATE_DOCTOR = """mutation($input: DoctorInput!) { createDoctor(input: $input) { id } }"""
APPOINTMENT_UPDATES = """subscription {
  appointmentUpdates { kind appointment { id status endTime doctor { id } slot { id } } }
}"""
SLOT_UPDATES = """subscription($specialtyId: ID) {
  slotUpdates(specialtyId: $specialtyId) { kind slot { id state } }
}"""

LOSING_CODES = {"SLOT_ALREADY_BOOKED", "SLOT_LOCKED"}


# --- helpers ------------------------------------------------------------------------------


async def colleague(api: Api, clinic: Clinic, timezone: str = "UTC") -> Clinic:
    """Another doctor of the same specialty, with its own login."""
    email = f"{unique('colleague')}@example.com"
    created = await api.gql(
        CREATE_DOCTOR,
        {
            "input": {
                "name": unique("Dr. Colleague "),
                "email": email,
                "specialtyId": clinic.specialty_id,
                "licenseNumber": unique("LIC-C-"),
                "timezone": timezone,
                "password": "doctor-password",
            }
        },
        api.admin.token,
    )
    doctor_id = created.data["createDoctor"]["id"]
    login = (await api.gql(LOGIN, {"email": email, "password": "doctor-password"})).data
    return Clinic(clinic.specialty_id, doctor_id, email, login["login"]["accessToken"])


async def booked(api: Api, slot_id: str, patient: Person) -> str:
    return str((await api.book(slot_id, patient)).data["bookAppointment"]["id"])


async def reschedule(gql: GraphQL, appointment_id: str, slot_id: str, who: Person) -> Any:
    return await gql(RESCHEDULE, {"id": appointment_id, "slotId": slot_id}, who.token)


async def snapshot(store: Store, appointment_ids: list[str], slot_ids: list[str]) -> list[Any]:
    """What a refusal must leave exactly as it was, once the sender and the audit mover have
    let go of the marks the changes before it wrote (they unset them in the background)."""

    async def settled() -> list[dict[str, Any]]:
        found = await store.appointments.find(
            {"_id": {"$in": [ObjectId(a) for a in appointment_ids]}}
        ).to_list()
        return [] if any("notifications_owed" in a or "audit_owed" in a for a in found) else found

    async def slots_settled() -> list[dict[str, Any]]:
        found = await store.slots.find({"_id": {"$in": [ObjectId(s) for s in slot_ids]}}).to_list()
        return [] if any("audit_owed" in s for s in found) else found

    appointments = await until(settled)
    slots = await until(slots_settled) if slot_ids else []
    return sorted(appointments, key=lambda d: d["_id"]) + sorted(slots, key=lambda d: d["_id"])


async def active_on(store: Store, slot_id: str) -> list[dict[str, Any]]:
    return await store.appointments.find(
        {"slot_id": ObjectId(slot_id), "status": {"$ne": "CANCELLED"}}
    ).to_list()


async def is_booked(store: Store, slot_id: str) -> bool:
    found = await store.slots.find_one({"_id": ObjectId(slot_id)}, {"is_booked": 1})
    return bool(found["is_booked"])


# --- moves ----------------------------------------------------------------------------------


async def test_reschedule_to_another_slot_of_the_same_doctor(api: Api, store: Store) -> None:
    clinic = await api.clinic("Asia/Kolkata")
    old = await api.slot(clinic, "09:00", "09:30")
    new = await api.slot(clinic, "14:00", "14:45", day=future_day(9))
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)

    moved = (await reschedule(api.gql, appointment_id, new["id"], patient)).data[
        "rescheduleAppointment"
    ]

    assert moved["id"] == appointment_id
    assert moved["status"] == "SCHEDULED"
    assert (moved["appointmentDate"], moved["appointmentTime"], moved["endTime"]) == (
        future_day(9),
        "14:00",
        "14:45",
    )
    assert moved["slot"] == {"id": new["id"], "state": "BOOKED", "isBooked": True}
    assert moved["doctor"]["id"] == clinic.doctor_id
    stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
    assert str(stored["slot_id"]) == new["id"]
    assert stored["end_time"] == "14:45"
    assert stored["starts_at"] == datetime.fromisoformat(new["startsAt"])
    assert stored["ends_at"] == datetime.fromisoformat(new["endsAt"])
    assert not await is_booked(store, old["id"])
    assert await is_booked(store, new["id"])
    assert [str(a["_id"]) for a in await active_on(store, new["id"])] == [appointment_id]
    assert await active_on(store, old["id"]) == []
    # The freed slot is bookable again.
    other = await api.patient()
    assert (await api.book(old["id"], other)).data["bookAppointment"]["status"] == "SCHEDULED"


async def test_reschedule_to_another_doctor_of_the_specialty(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    other_doctor = await colleague(api, clinic)
    old = await api.slot(clinic, "09:00", "09:30")
    new = await api.slot(other_doctor, "10:00", "10:20")
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)

    moved = (await reschedule(api.gql, appointment_id, new["id"], patient)).data[
        "rescheduleAppointment"
    ]

    assert moved["doctor"]["id"] == other_doctor.doctor_id
    assert moved["specialty"]["id"] == clinic.specialty_id
    assert moved["endTime"] == "10:20"
    stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
    assert str(stored["doctor_id"]) == other_doctor.doctor_id
    assert not await is_booked(store, old["id"])
    # The new doctor sees it now; the old one no longer does.
    query = """query($id: ID!) { appointment(id: $id) { id } }"""
    seen = await api.gql(query, {"id": appointment_id}, other_doctor.doctor_token)
    assert seen.data["appointment"]["id"] == appointment_id
    assert (await api.gql(query, {"id": appointment_id}, clinic.doctor_token)).code == "NOT_FOUND"


async def test_reschedule_into_a_slot_the_patient_locked(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    old = await api.slot(clinic, "09:00", "09:30")
    new = await api.slot(clinic, "12:00", "12:30")
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)
    assert (await api.lock(new["id"], patient)).data["lockSlot"]["lock"]["lockedByMe"]

    moved = await reschedule(api.gql, appointment_id, new["id"], patient)

    assert moved.data["rescheduleAppointment"]["slot"]["state"] == "BOOKED"
    stored = await store.slots.find_one({"_id": ObjectId(new["id"])})
    assert stored["is_booked"] is True and stored["booking_lock"].get("is_active") is None


async def test_a_confirmed_appointment_moves_and_is_scheduled_again(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    old = await api.slot(clinic, "09:00", "09:30")
    new = await api.slot(clinic, "13:00", "13:30")
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)
    confirmed = await api.gql(
        SET_STATUS, {"id": appointment_id, "status": "CONFIRMED"}, clinic.doctor_token
    )
    assert confirmed.data["updateAppointmentStatus"]["status"] == "CONFIRMED"

    moved = await reschedule(api.gql, appointment_id, new["id"], patient)

    assert moved.data["rescheduleAppointment"]["status"] == "SCHEDULED"
    stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
    assert stored["status"] == "SCHEDULED"


async def test_an_admin_reschedules_for_the_patient(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    await api.gql(
        UPDATE_DOCTOR, {"id": clinic.doctor_id, "input": {"maxDaysAhead": 2}}, api.admin.token
    )
    old = await api.slot(clinic, "09:00", "09:30", day=future_day(1))
    far = await api.slot(clinic, "09:00", "09:30", day=future_day(20))
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)

    # The window binds the patient, not the admin.
    refused = await reschedule(api.gql, appointment_id, far["id"], patient)
    assert refused.code == "OUTSIDE_BOOKING_WINDOW"
    moved = await reschedule(api.gql, appointment_id, far["id"], api.admin)
    assert moved.data["rescheduleAppointment"]["patient"]["id"] == patient.id
    assert await is_booked(store, far["id"]) and not await is_booked(store, old["id"])


async def test_a_move_may_overlap_the_appointments_own_old_time(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    other_doctor = await colleague(api, clinic)
    old = await api.slot(clinic, "09:00", "09:30")
    shifted = await api.slot(other_doctor, "09:15", "09:45")
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)
    moved = await reschedule(api.gql, appointment_id, shifted["id"], patient)
    assert moved.data["rescheduleAppointment"]["slot"]["id"] == shifted["id"]


async def test_an_appointment_stored_with_a_null_owed_mark_moves_and_cancels(
    api: Api, store: Store
) -> None:
    """Appointments written by an import or another tool may hold `notifications_owed: null`
    (a model dumped with its defaults); no store can create `notifications_owed.at` inside a
    null, and the bench's rush once met this as INTERNAL_SERVER_ERROR and a slot left booked."""
    clinic = await api.clinic()
    old = await api.slot(clinic, "09:00", "09:30")
    new = await api.slot(clinic, "11:00", "11:30")
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)
    await snapshot(store, [appointment_id], [])  # the booking's own mark let go of
    oid = ObjectId(appointment_id)
    await store.appointments.update_one({"_id": oid}, {"$set": {"notifications_owed": None}})

    moved = await reschedule(api.gql, appointment_id, new["id"], patient)

    assert moved.data["rescheduleAppointment"]["slot"]["id"] == new["id"]
    assert not await is_booked(store, old["id"])
    rows = await until(
        lambda: store.notifications.count_documents({"appointment_id": oid, "kind": "RESCHEDULED"})
    )
    assert rows > 0
    await store.appointments.update_one({"_id": oid}, {"$set": {"notifications_owed": None}})
    cancelled = await api.gql(CANCEL, {"id": appointment_id}, patient.token)
    assert cancelled.data["cancelAppointment"]["status"] == "CANCELLED"
    assert not await is_booked(store, new["id"])


# --- refusals: each with its code, and nothing changed ----------------------------------------


async def _refusal_case(api: Api, store: Store, case: str) -> tuple[Any, Any, list[Any]]:
    """Sets up `case`, tries the move, and returns the reply and the before/after snapshots."""
    clinic = await api.clinic()
    other_doctor = await colleague(api, clinic)
    patient = await api.patient()
    old = await api.slot(clinic, "09:00", "09:30")
    target = await api.slot(other_doctor, "11:00", "11:30")
    appointment_id = await booked(api, old["id"], patient)
    who: Person = patient
    appointment_arg, slot_arg = appointment_id, target["id"]
    extra_slots: list[str] = []
    extra_appointments: list[str] = []

    if case == "locked by another":
        assert (await api.lock(target["id"], await api.patient())).data["lockSlot"]
    elif case == "booked by another":
        extra_appointments.append(await booked(api, target["id"], await api.patient()))
    elif case == "disabled":
        await api.gql(SET_AVAILABILITY, {"id": target["id"], "isAvailable": False}, api.admin.token)
    elif case == "removed":
        await api.gql(REMOVE_SLOT, {"id": target["id"]}, api.admin.token)
    elif case == "unknown slot":
        slot_arg = str(ObjectId())
    elif case == "unknown appointment":
        appointment_arg = str(ObjectId())
    elif case == "someone else's appointment":
        who = await api.patient()
    elif case == "malformed slot id":
        slot_arg = "12345"
    elif case == "malformed appointment id":
        appointment_arg = "not-an-id"
    elif case == "same slot":
        slot_arg = old["id"]
    elif case == "another specialty":
        slot_arg = (await api.slot(await api.clinic(), "11:00", "11:30"))["id"]
        extra_slots.append(slot_arg)
    elif case == "cancelled":
        assert (await api.gql(CANCEL, {"id": appointment_id}, patient.token)).data
    elif case == "in progress":
        await starts_in(store, appointment_id, -5)  # a visit starts only near its time
        for status in ("CONFIRMED", "IN_PROGRESS"):
            reply = await api.gql(
                SET_STATUS, {"id": appointment_id, "status": status}, clinic.doctor_token
            )
            assert reply.data
    elif case == "overlaps another of the patient's":
        other = await api.slot(clinic, "11:00", "11:30")
        extra_slots.append(other["id"])
        extra_appointments.append(await booked(api, other["id"], patient))
    elif case == "outside the window":
        await api.gql(
            UPDATE_DOCTOR,
            {"id": other_doctor.doctor_id, "input": {"minNoticeMinutes": 60 * 24 * 30}},
            api.admin.token,
        )
    elif case == "by its doctor":
        who = Person(clinic.doctor_id, clinic.doctor_token, "", clinic.doctor_email)
    elif case == "already started":
        await store.appointments.update_one(
            {"_id": ObjectId(appointment_id)},
            {"$set": {"starts_at": datetime.now(UTC) - timedelta(minutes=5)}},
        )
        who = api.admin
    else:
        raise AssertionError(case)

    ids = [appointment_id, *extra_appointments]
    slots = [old["id"], target["id"], *extra_slots]
    before = await snapshot(store, ids, slots)
    reply = await reschedule(api.gql, appointment_arg, slot_arg, who)
    return reply, before, await snapshot(store, ids, slots)


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("locked by another", "SLOT_LOCKED", None),
        ("booked by another", "SLOT_ALREADY_BOOKED", None),
        ("disabled", "SLOT_UNAVAILABLE", None),
        ("removed", "SLOT_UNAVAILABLE", None),
        ("unknown slot", "NOT_FOUND", "slotId"),
        ("unknown appointment", "NOT_FOUND", "id"),
        ("someone else's appointment", "NOT_FOUND", "id"),
        ("malformed slot id", "BAD_USER_INPUT", "slotId"),
        ("malformed appointment id", "BAD_USER_INPUT", "id"),
        ("same slot", "BAD_USER_INPUT", "slotId"),
        ("another specialty", "BAD_USER_INPUT", "slotId"),
        ("cancelled", "INVALID_TRANSITION", None),
        ("in progress", "INVALID_TRANSITION", None),
        ("overlaps another of the patient's", "CONFLICT", "slotId"),
        ("outside the window", "OUTSIDE_BOOKING_WINDOW", None),
        ("by its doctor", "FORBIDDEN", None),
        ("already started", "INVALID_TRANSITION", None),
    ],
)
async def test_refusals_change_nothing(
    api: Api, store: Store, case: str, code: str, field: str | None
) -> None:
    reply, before, after = await _refusal_case(api, store, case)
    assert reply.code == code, reply.body
    extensions = reply.error["extensions"]
    if field is not None:
        assert extensions.get("field") == field
    if code == "SLOT_LOCKED":
        assert datetime.fromisoformat(extensions["expiresAt"]) > datetime.now(UTC)
    if code == "OUTSIDE_BOOKING_WINDOW":
        assert {"earliest", "latest"} <= set(extensions)
    assert after == before


@pytest.mark.parametrize(
    "variables",
    [
        {"id": "\ud800", "slotId": "5f0000000000000000000000"},
        {"id": 12, "slotId": "5f0000000000000000000000"},
        {"id": ["5f0000000000000000000000"], "slotId": "5f0000000000000000000000"},
        {"id": "5f0000000000000000000000", "slotId": None},
        {"id": "5f0000000000000000000000", "slotId": {"id": "x"}},
    ],
)
async def test_malformed_arguments_are_bad_input(api: Api, variables: dict[str, Any]) -> None:
    patient = await api.patient()
    reply = await api.gql.http.post(
        api.gql.url,
        content=json.dumps({"query": RESCHEDULE, "variables": variables}),
        headers={"Authorization": f"Bearer {patient.token}", "Content-Type": "application/json"},
    )
    body = reply.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def test_without_a_token_it_is_unauthenticated(api: Api) -> None:
    reply = await api.gql(RESCHEDULE, {"id": str(ObjectId()), "slotId": str(ObjectId())})
    assert reply.code == "UNAUTHENTICATED"


# --- races across two API processes ----------------------------------------------------------


async def test_patients_racing_into_one_slot_one_wins(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    other_doctor = await colleague(api, clinic)
    target = await api.slot(other_doctor, "15:00", "15:30")
    patients = list(await asyncio.gather(*(api.patient(f"Mover {i}") for i in range(6))))
    olds = [await api.slot(clinic, f"{8 + i:02d}:00", f"{8 + i:02d}:30") for i in range(6)]
    appointment_ids = [
        await booked(api, slot["id"], patient) for slot, patient in zip(olds, patients, strict=True)
    ]

    replies = await asyncio.gather(
        *(
            reschedule(gql if i % 2 else gql_b, appointment_id, target["id"], patient)
            for i, (appointment_id, patient) in enumerate(
                zip(appointment_ids, patients, strict=True)
            )
        )
    )

    winners = [i for i, r in enumerate(replies) if not r.body.get("errors")]
    assert len(winners) == 1, [r.body for r in replies]
    assert {r.code for r in replies if r.body.get("errors")} <= LOSING_CODES
    [winner] = winners
    assert [str(a["_id"]) for a in await active_on(store, target["id"])] == [
        appointment_ids[winner]
    ]
    for i, (appointment_id, old) in enumerate(zip(appointment_ids, olds, strict=True)):
        stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
        if i == winner:
            assert str(stored["slot_id"]) == target["id"]
            assert not await is_booked(store, old["id"])
        else:
            assert str(stored["slot_id"]) == old["id"] and stored["status"] == "SCHEDULED"
            assert await is_booked(store, old["id"])


async def test_rescheduling_while_another_patient_books_the_target(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    pairs = 4
    movers = list(await asyncio.gather(*(api.patient(f"Mover {i}") for i in range(pairs))))
    bookers = list(await asyncio.gather(*(api.patient(f"Booker {i}") for i in range(pairs))))
    olds = [await api.slot(clinic, f"{8 + i:02d}:00", f"{8 + i:02d}:30") for i in range(pairs)]
    targets = [await api.slot(clinic, f"{14 + i:02d}:00", f"{14 + i:02d}:30") for i in range(pairs)]
    appointment_ids = [
        await booked(api, old["id"], mover) for old, mover in zip(olds, movers, strict=True)
    ]
    book = "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"

    replies = await asyncio.gather(
        *(
            call
            for i in range(pairs)
            for call in (
                reschedule(gql, appointment_ids[i], targets[i]["id"], movers[i]),
                gql_b(book, {"input": {"slotId": targets[i]["id"]}}, bookers[i].token),
            )
        )
    )

    for i in range(pairs):
        moved, booking = replies[2 * i], replies[2 * i + 1]
        outcomes = [not moved.body.get("errors"), not booking.body.get("errors")]
        assert outcomes.count(True) == 1, (moved.body, booking.body)
        active = await active_on(store, targets[i]["id"])
        assert len(active) == 1
        mover_appointment = await store.appointments.find_one({"_id": ObjectId(appointment_ids[i])})
        if outcomes[0]:
            assert booking.code in LOSING_CODES
            assert str(active[0]["_id"]) == appointment_ids[i]
            assert not await is_booked(store, olds[i]["id"])
        else:
            assert moved.code in LOSING_CODES
            assert str(active[0]["patient_id"]) == bookers[i].id
            assert str(mover_appointment["slot_id"]) == olds[i]["id"]
            assert await is_booked(store, olds[i]["id"])


# --- events ------------------------------------------------------------------------------------


class _BookingProbe:
    """Books and cancels, in turn, a probe slot of one doctor; its events are skipped."""

    def __init__(self, api: Api, patient: Person, slot_id: str) -> None:
        self.api, self.patient, self.slot_id = api, patient, slot_id
        self.appointment_id: str | None = None

    def skip(self, data: Payload) -> bool:
        return bool(data["appointmentUpdates"]["appointment"]["slot"]["id"] == self.slot_id)

    async def __call__(self) -> None:
        if self.appointment_id is None:
            self.appointment_id = await booked(self.api, self.slot_id, self.patient)
        else:
            assert (
                await self.api.gql(CANCEL, {"id": self.appointment_id}, self.patient.token)
            ).data
            self.appointment_id = None


async def test_events_reach_the_patient_both_doctors_and_admins(
    api: Api, server_a: ApiServer, server_b: ApiServer
) -> None:
    clinic = await api.clinic()
    other_doctor = await colleague(api, clinic)
    patient = await api.patient()
    old = await api.slot(clinic, "09:00", "09:30")
    new = await api.slot(other_doctor, "10:00", "10:30")
    appointment_id = await booked(api, old["id"], patient)
    probes = [
        _BookingProbe(
            api, patient, (await api.slot(clinic, "06:00", "06:30", future_day(8)))["id"]
        ),
        _BookingProbe(
            api,
            await api.patient("Probe"),
            (await api.slot(other_doctor, "06:00", "06:30", future_day(8)))["id"],
        ),
    ]
    probe_slot = (await api.slot(clinic, "05:00", "05:30", future_day(8)))["id"]
    available = [True]

    def skip(data: Payload) -> bool:
        if "slotUpdates" in data:
            return data["slotUpdates"]["slot"]["id"] in {probe_slot, *(p.slot_id for p in probes)}
        return any(p.skip(data) for p in probes)

    async def probe() -> None:
        for each in probes:
            await each()
        available[0] = not available[0]
        reply = await api.gql(
            SET_AVAILABILITY, {"id": probe_slot, "isAvailable": available[0]}, api.admin.token
        )
        assert reply.data

    async with (
        connect(server_a.ws_url, patient.token) as patient_ws,
        connect(server_b.ws_url, clinic.doctor_token) as old_doctor_ws,
        connect(server_a.ws_url, other_doctor.doctor_token) as new_doctor_ws,
        connect(server_b.ws_url, api.admin.token) as admin_ws,
    ):
        listeners = {
            "patient": patient_ws.subscribe(APPOINTMENT_UPDATES, skip=skip),
            "old doctor": old_doctor_ws.subscribe(APPOINTMENT_UPDATES, skip=skip),
            "new doctor": new_doctor_ws.subscribe(APPOINTMENT_UPDATES, skip=skip),
            "admin": admin_ws.subscribe(APPOINTMENT_UPDATES, skip=skip),
        }
        slot_events = admin_ws.subscribe(
            SLOT_UPDATES, {"specialtyId": clinic.specialty_id}, skip=skip
        )
        await until_ready([*listeners.values(), slot_events], probe)

        moved = await reschedule(api.gql, appointment_id, new["id"], patient)
        assert moved.data["rescheduleAppointment"]["id"] == appointment_id

        for name, listener in listeners.items():
            event = (await listener.next())["appointmentUpdates"]
            assert event["kind"] == "RESCHEDULED", name
            assert event["appointment"] == {
                "id": appointment_id,
                "status": "SCHEDULED",
                "endTime": "10:30",
                "doctor": {"id": other_doctor.doctor_id},
                "slot": {"id": new["id"]},
            }, name
        seen = [(await slot_events.next())["slotUpdates"] for _ in range(2)]
        assert {(e["kind"], e["slot"]["id"], e["slot"]["state"]) for e in seen} == {
            ("RELEASED", old["id"], "AVAILABLE"),
            ("BOOKED", new["id"], "BOOKED"),
        }


# --- a crash between the writes ------------------------------------------------------------


@pytest.fixture(scope="module")
def short_grace_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    """Its reconciler's grace period (the lock TTL) is 2 s, so repairs happen within a test."""
    server = ApiServer(
        store_uri,
        db_name,
        env={"SLOT_LOCK_TTL_SECONDS": "2", "LOCK_SWEEP_INTERVAL_SECONDS": "0.3"},
    ).start(log_dir)
    yield server
    server.stop()


async def _consistent(store: Store, slot_ids: list[str]) -> bool:
    """Every slot is booked exactly when an active appointment holds it."""
    for slot_id in slot_ids:
        if await is_booked(store, slot_id) != bool(await active_on(store, slot_id)):
            return False
    return True


async def _wait_consistent(store: Store, slot_ids: list[str], seconds: float = 20) -> bool:
    for _ in range(int(seconds / 0.25)):
        if await _consistent(store, slot_ids):
            return True
        await asyncio.sleep(0.25)
    return False


@pytest.mark.parametrize("crashed_after", ["claim", "touch", "move"])
async def test_a_crash_between_writes_is_repaired_by_the_reconciler(
    api: Api, store: Store, short_grace_server: ApiServer, crashed_after: str
) -> None:
    clinic = await api.clinic()
    old = await api.slot(clinic, "09:00", "09:30")
    new = await api.slot(clinic, "10:00", "10:30")
    patient = await api.patient()
    appointment_id = await booked(api, old["id"], patient)
    now = datetime.now(UTC)
    # What a process that died after each step leaves, written as it would have written it.
    stamp = {"booked_at": now, "awaiting_check": True, "updated_at": now}
    await store.slots.update_one(
        {"_id": ObjectId(new["id"])}, {"$set": {"is_booked": True, **stamp}}
    )
    if crashed_after in ("touch", "move"):
        await store.slots.update_one({"_id": ObjectId(old["id"])}, {"$set": stamp})
    if crashed_after == "move":
        await store.appointments.update_one(
            {"_id": ObjectId(appointment_id)},
            {
                "$set": {
                    "slot_id": ObjectId(new["id"]),
                    "appointment_time": "10:00",
                    "end_time": "10:30",
                    "starts_at": datetime.fromisoformat(new["startsAt"]),
                    "ends_at": datetime.fromisoformat(new["endsAt"]),
                    "updated_at": now,
                }
            },
        )
    assert not await _consistent(store, [old["id"], new["id"]])

    assert await _wait_consistent(store, [old["id"], new["id"]])

    holder = new["id"] if crashed_after == "move" else old["id"]
    freed = old["id"] if crashed_after == "move" else new["id"]
    assert await is_booked(store, holder) and not await is_booked(store, freed)
    assert [str(a["_id"]) for a in await active_on(store, holder)] == [appointment_id]
    # The freed slot can be booked again.
    assert (await api.book(freed, await api.patient())).data["bookAppointment"]

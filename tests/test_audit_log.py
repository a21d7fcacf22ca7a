"""The audit log: every change with its actor, request id and changed fields; appointment
history; the server's own changes with no actor; ADMIN's filtered, paginated log."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId

from app.store.chunks import chunked
from tests.graphql_client import Api, Clinic, GraphQL, Person, unique
from tests.schedule_helpers import (
    CLEAR_OVERRIDE,
    SET_OVERRIDE,
    every_day,
    hours,
    set_schedule,
    today_in,
)
from tests.servers import ApiServer
from tests.subscriptions_client import Payload, connect, until_ready
from tests.test_rescheduling import colleague

AUDIT_LOG = """query(
  $entityId: ID, $actorId: ID, $from: DateTime, $to: DateTime, $first: Int, $after: String
) {
  auditLog(entityId: $entityId, actorId: $actorId, from: $from, to: $to,
           first: $first, after: $after) {
    edges { cursor node {
      id at action entityType entityId before after requestId actor { id role }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
HISTORY = """query($id: ID!) {
  appointment(id: $id) {
    id history { action entityId before after requestId actor { id } }
  }
}"""
WHO_ACTED = """query($id: ID!) {
  appointment(id: $id) {
    cancelledBy { id email } cancelledByRole
    history {
      action before after actor { id email } actorRole actorDoctor { id name }
    }
  }
}"""
MY_HISTORIES = """{ myAppointments { id history { action actor { id } } } }"""
SET_STATUS = """mutation($id: ID!, $status: AppointmentStatus!) {
  updateAppointmentStatus(id: $id, status: $status) { id status }
}"""
CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id, reason: "ill") { id status } }"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!) {
  rescheduleAppointment(id: $id, slotId: $slotId) { id status slot { id } }
}"""
LOCK = """mutation($slotId: ID!) { lockSlot(slotId: $slotId) { id state } }"""
UNLOCK = """mutation($slotId: ID!) { unlockSlot(slotId: $slotId) { id state } }"""
BOOK = """mutation($slotId: ID!) { bookAppointment(input: {slotId: $slotId}) { id status } }"""
SET_AVAILABILITY = """mutation($id: ID!, $on: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $on) { id isAvailable }
}"""
REMOVE_SLOT = """mutation($id: ID!) { removeSlot(id: $id) { id } }"""
CREATE_SPECIALTY = "mutation($n: String!) { createSpecialty(input: {name: $n}) { id } }"
UPDATE_SPECIALTY = """mutation($id: ID!, $input: SpecialtyUpdateInput!) {
  updateSpecialty(id: $id, input: $input) { id }
}"""
UPDATE_DOCTOR = """mutation($id: ID!, $input: DoctorUpdateInput!) {
  updateDoctor(id: $id, input: $input) { id }
}"""


async def send(
    api: Api, query: str, variables: dict[str, Any], who: Person, request_id: str | None = None
) -> tuple[dict[str, Any], str]:
    """A real HTTP call with its own X-Request-ID; the body and the id the server echoed."""
    headers = {"Authorization": f"Bearer {who.token}"}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    reply = await api.gql.http.post(
        api.gql.url, json={"query": query, "variables": variables}, headers=headers
    )
    body = reply.json()
    assert not body.get("errors"), body
    return body["data"], reply.headers["x-request-id"]


async def log_page(api: Api, token: str | None = None, **arguments: Any) -> dict[str, Any]:
    reply = await api.gql(AUDIT_LOG, arguments, api.admin.token if token is None else token)
    return dict(reply.data["auditLog"])


async def entries(api: Api, **filters: Any) -> list[dict[str, Any]]:
    """Every entry matching the filters, page after page, oldest first."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = await log_page(api, first=100, after=after, **filters)
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def by_action(found: list[dict[str, Any]], action: str) -> dict[str, Any]:
    matching = [e for e in found if e["action"] == action]
    assert len(matching) == 1, (action, [e["action"] for e in found])
    return matching[0]


def request_id() -> str:
    return f"audit-{uuid.uuid4().hex[:12]}"


async def test_a_booking_is_recorded_with_its_actor_request_id_and_fields(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "08:00", "08:30")
    patient = await api.patient()
    _, lock_id = await send(api, LOCK, {"slotId": slot["id"]}, patient, request_id())
    booked, book_id = await send(api, BOOK, {"slotId": slot["id"]}, patient, request_id())
    appointment_id = booked["bookAppointment"]["id"]

    on_slot = await entries(api, entityId=slot["id"])
    assert [e["action"] for e in on_slot] == ["slot.created", "slot.locked", "slot.booked"]
    created, locked, slot_booked = on_slot
    assert created["actor"] == {"id": api.admin.id, "role": "ADMIN"}
    assert created["entityType"] == "slot"
    assert created["after"]["startTime"] == "08:00" and created["before"] is None
    assert locked["actor"]["id"] == patient.id and locked["requestId"] == lock_id
    assert locked["after"]["bookingLock"]["patientId"] == patient.id
    assert slot_booked["requestId"] == book_id
    assert (slot_booked["before"], slot_booked["after"]) == (
        {"isBooked": False},
        {"isBooked": True, "appointmentId": appointment_id},
    )
    (booking,) = await entries(api, entityId=appointment_id)
    assert booking["action"] == "appointment.booked"
    assert (booking["actor"]["id"], booking["requestId"]) == (patient.id, book_id)
    assert booking["after"]["status"] == "SCHEDULED"
    assert booking["after"]["slotId"] == slot["id"]


async def test_appointment_history_shows_each_change_oldest_first(api: Api) -> None:
    clinic = await api.clinic()
    first, second = (
        await api.slot(clinic, "09:00", "09:30"),
        await api.slot(clinic, "10:00", "10:30"),
    )
    patient, stranger = await api.patient(), await api.patient()
    appointment_id = (await api.book(first["id"], patient)).data["bookAppointment"]["id"]
    doctor = Person("", clinic.doctor_token, "", clinic.doctor_email)
    _, confirm_id = await send(
        api, SET_STATUS, {"id": appointment_id, "status": "CONFIRMED"}, doctor, request_id()
    )
    await send(api, RESCHEDULE, {"id": appointment_id, "slotId": second["id"]}, patient)
    await send(api, CANCEL, {"id": appointment_id}, patient)

    history = (await api.gql(HISTORY, {"id": appointment_id}, patient.token)).data["appointment"][
        "history"
    ]
    assert [e["action"] for e in history] == [
        "appointment.booked",
        "appointment.status_changed",
        "appointment.rescheduled",
        "appointment.cancelled",
    ]
    confirmed, moved, cancelled = history[1:]
    assert (confirmed["before"], confirmed["after"]) == (
        {"status": "SCHEDULED"},
        {"status": "CONFIRMED"},
    )
    assert confirmed["requestId"] == confirm_id
    assert moved["before"]["slotId"] == first["id"] and moved["after"]["slotId"] == second["id"]
    assert moved["before"]["appointmentTime"] == "09:00"
    assert moved["after"] == {**moved["after"], "status": "SCHEDULED", "appointmentTime": "10:00"}
    assert cancelled["before"]["status"] == "SCHEDULED"
    assert cancelled["after"]["status"] == "CANCELLED"
    assert cancelled["after"]["cancellationReason"] == "ill"
    assert cancelled["after"]["cancelledBy"] == patient.id
    assert {e["actor"]["id"] for e in history if e is not confirmed} == {patient.id}
    # Both slots were freed on the way; each says so on its own entity.
    assert by_action(await entries(api, entityId=first["id"]), "slot.released")
    assert by_action(await entries(api, entityId=second["id"]), "slot.released")

    seen_by_doctor = await api.gql(HISTORY, {"id": appointment_id}, clinic.doctor_token)
    assert len(seen_by_doctor.data["appointment"]["history"]) == 4
    mine = (await api.gql(MY_HISTORIES, {}, patient.token)).data["myAppointments"]
    assert [len(a["history"]) for a in mine] == [4]
    refused = await api.gql(HISTORY, {"id": appointment_id}, stranger.token)
    assert refused.code == "NOT_FOUND"
    assert refused.body["data"]["appointment"] is None
    assert (await api.gql(MY_HISTORIES, {}, stranger.token)).data["myAppointments"] == []


async def test_slot_catalog_and_account_changes_are_recorded(api: Api) -> None:
    started = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    clinic = await api.clinic()
    slot = await api.slot(clinic, "11:00", "11:30")
    await send(api, SET_AVAILABILITY, {"id": slot["id"], "on": False}, api.admin)
    await send(api, SET_AVAILABILITY, {"id": slot["id"], "on": False}, api.admin)  # no change
    await send(api, REMOVE_SLOT, {"id": slot["id"]}, api.admin)
    on_slot = await entries(api, entityId=slot["id"])
    assert [e["action"] for e in on_slot] == [
        "slot.created",
        "slot.availability_changed",
        "slot.removed",
    ]
    assert on_slot[1]["after"] == {"isAvailable": False}
    assert on_slot[2]["after"] == {"isRemoved": True, "isAvailable": False}

    new_name = unique("Renamed ")
    _, rename_id = await send(
        api,
        UPDATE_SPECIALTY,
        {"id": clinic.specialty_id, "input": {"name": new_name, "description": None}},
        api.admin,
        request_id(),
    )
    created, renamed = await entries(api, entityId=clinic.specialty_id)
    assert (created["action"], renamed["action"]) == ("specialty.created", "specialty.updated")
    assert created["after"]["isActive"] is True
    assert renamed["after"] == {"name": new_name} and renamed["requestId"] == rename_id
    assert renamed["before"]["name"] != new_name and set(renamed["before"]) == {"name"}

    await send(
        api, UPDATE_DOCTOR, {"id": clinic.doctor_id, "input": {"consultationFee": 450}}, api.admin
    )
    doctor_created, doctor_updated = await entries(api, entityId=clinic.doctor_id)
    assert doctor_created["action"] == "doctor.created"
    assert doctor_created["after"]["email"] == clinic.doctor_email
    assert (doctor_updated["before"], doctor_updated["after"]) == (
        {"consultationFee": 300.0},
        {"consultationFee": 450.0},
    )
    doctor_logins = [
        e
        for e in await entries(api, actorId=api.admin.id, **{"from": started})
        if e["action"] == "user.created" and e["after"]["doctorId"] == clinic.doctor_id
    ]
    assert [e["after"]["role"] for e in doctor_logins] == ["DOCTOR"]

    patient = await api.patient()
    (registered,) = await entries(api, entityId=patient.id)
    assert registered["action"] == "user.created"
    assert registered["actor"]["id"] == patient.id
    assert registered["after"] == {"email": patient.email, "role": "PATIENT", "doctorId": None}


async def test_a_schedule_change_is_summarized_not_written_slot_by_slot(
    api: Api, store: Any
) -> None:
    clinic = await api.clinic()
    week = every_day(("09:00", "12:00"))
    change = (await set_schedule(api, clinic, slotMinutes=30, weekly=week)).data["setSchedule"]
    assert change["slotsAdded"] > 300
    day = (today_in("UTC") + timedelta(days=5)).isoformat()
    await api.gql(
        SET_OVERRIDE,
        {
            "doctorId": clinic.doctor_id,
            "date": day,
            "ranges": hours(("10:00", "11:00")),
            "reason": "Talk",
        },
        clinic.doctor_token,
    )
    await api.gql(CLEAR_OVERRIDE, {"doctorId": clinic.doctor_id, "date": day}, clinic.doctor_token)

    found = await entries(api, entityId=clinic.doctor_id)
    assert [e["action"] for e in found] == [
        "doctor.created",
        "schedule.set",
        "slots.regenerated",
        "schedule.override_set",
        "slots.regenerated",
        "schedule.override_cleared",
        "slots.regenerated",
    ]
    schedule_set, generated = found[1], found[2]
    assert schedule_set["before"] == {"schedule": None}
    assert schedule_set["after"]["schedule"]["slotMinutes"] == 30
    assert generated["after"] == {
        "slotsAdded": change["slotsAdded"],
        "slotsRemoved": 0,
        "horizonEnd": change["horizonEnd"],
    }
    override_set, override_cleared = found[3], found[5]
    assert override_set["actor"]["role"] == "DOCTOR"
    assert override_set["before"] == {"date": day, "ranges": None, "reason": None}
    assert override_set["after"] == {
        "date": day,
        "ranges": [{"start": "10:00", "end": "11:00"}],
        "reason": "Talk",
    }
    assert override_cleared["before"] == override_set["after"]
    # Hundreds of generated slots, and not one entry written for any of them.
    generated_ids = await store.slots.distinct("_id", {"doctor_id": ObjectId(clinic.doctor_id)})
    assert await store.audit_log.count_documents({"entity_id": {"$in": generated_ids}}) == 0


async def _entry_appears(
    api: Api, entity_id: str, action: str, seconds: float = 30
) -> dict[str, Any]:
    for _ in range(int(seconds / 0.25)):
        found = [e for e in await entries(api, entityId=entity_id) if e["action"] == action]
        if found:
            return found[0]
        await asyncio.sleep(0.25)
    raise AssertionError(f"no {action} entry for {entity_id}")


async def test_the_servers_own_changes_have_no_actor(
    api: Api, store: Any, store_uri: str, db_name: str, log_dir: Path
) -> None:
    clinic = await api.clinic()
    doctor_id = ObjectId(clinic.doctor_id)
    await set_schedule(api, clinic, slotMinutes=30, weekly=every_day(("07:00", "07:30")))
    # As if the last days of the horizon had not been generated yet.
    cut = (today_in("UTC") + timedelta(days=50)).isoformat()
    await store.slots.delete_many({"doctor_id": doctor_id, "date": {"$gt": cut}})
    await store.doctors.update_one({"_id": doctor_id}, {"$set": {"horizon_end": cut}})
    locked_slot = await api.slot(clinic, "13:00", "13:30")
    orphan = await api.slot(clinic, "14:00", "14:30")

    server = ApiServer(
        store_uri,
        db_name,
        env={"SLOT_LOCK_TTL_SECONDS": "2", "LOCK_SWEEP_INTERVAL_SECONDS": "0.3"},
    ).start(log_dir)
    try:
        patient = await api.patient()
        lock_url = {"Authorization": f"Bearer {patient.token}"}
        reply = await api.gql.http.post(
            server.url,
            json={"query": LOCK, "variables": {"slotId": locked_slot["id"]}},
            headers=lock_url,
        )
        assert not reply.json().get("errors"), reply.json()
        # What a process that died between claiming the slot and writing the appointment leaves.
        await store.slots.update_one(
            {"_id": ObjectId(orphan["id"])},
            {"$set": {"is_booked": True, **crash_stamp(datetime.now(UTC))}},
        )
        expired = await _entry_appears(api, locked_slot["id"], "slot.lock_expired")
        released = await _entry_appears(api, orphan["id"], "slot.released")
        rolled = await _entry_appears(api, clinic.doctor_id, "schedule.rolled_forward")
    finally:
        server.stop()
    assert expired["before"]["bookingLock"]["patientId"] == patient.id
    assert expired["after"] == {"bookingLock": None}
    assert released["after"] == {"isBooked": False}
    assert rolled["before"] == {"horizonEnd": cut} and rolled["after"]["slotsAdded"] > 0
    for entry in (expired, released, rolled):
        assert (entry["actor"], entry["requestId"]) == (None, None), entry


async def test_no_operation_edits_or_deletes_entries(api: Api, store: Any) -> None:
    introspected = await api.gql(
        "{ __schema { mutationType { fields { name args { name } } } } }", {}, api.admin.token
    )
    mutations = introspected.data["__schema"]["mutationType"]["fields"]
    names = [m["name"].lower() for m in mutations]
    assert not [n for n in names if "audit" in n or "history" in n], names
    written = await store.audit_log.find({}).sort("_id", 1).to_list(None)
    assert written, "earlier requests (the admin's own start-up at least) wrote entries"
    # Change everything there is to change on one clinic; what was written stays as it was.
    clinic = await api.clinic()
    slot = await api.slot(clinic, "12:00", "12:30")
    patient = await api.patient()
    appointment = (await api.book(slot["id"], patient)).data["bookAppointment"]
    await send(api, CANCEL, {"id": appointment["id"]}, patient)
    await send(api, REMOVE_SLOT, {"id": slot["id"]}, api.admin)
    ids = [entry["_id"] for entry in written]
    again = []
    for some in chunked(ids):  # the embedded SQLite store refuses an $in of ~500 values
        again += await store.audit_log.find({"_id": {"$in": some}}).to_list(None)
    assert sorted(again, key=lambda entry: entry["_id"]) == written


async def test_the_log_filters_and_pages_with_cursors(api: Api) -> None:
    clinic = await api.clinic()
    slots = [await api.slot(clinic, f"{h:02d}:00", f"{h:02d}:30") for h in (15, 16, 17)]
    patient = await api.patient()
    for slot in slots:
        await send(api, LOCK, {"slotId": slot["id"]}, patient)
        await send(api, UNLOCK, {"slotId": slot["id"]}, patient)

    by_patient = await entries(api, actorId=patient.id)
    assert [e["action"] for e in by_patient] == ["user.created"] + [
        "slot.locked",
        "slot.unlocked",
    ] * 3
    assert {e["actor"]["id"] for e in by_patient} == {patient.id}
    stamps = [datetime.fromisoformat(e["at"]) for e in by_patient]
    assert stamps == sorted(stamps)

    pages, after = [], None
    while True:
        page = await log_page(api, actorId=patient.id, first=2, after=after)
        pages.append([edge["node"]["id"] for edge in page["edges"]])
        assert page["pageInfo"]["endCursor"] == (page["edges"][-1]["cursor"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [i for p in pages for i in p] == [e["id"] for e in by_patient]

    bounds = {"from": stamps[1].isoformat(), "to": stamps[4].isoformat()}
    window = await entries(api, actorId=patient.id, **bounds)
    inside = [
        e["id"] for e, at in zip(by_patient, stamps, strict=True) if stamps[1] <= at <= stamps[4]
    ]
    assert [e["id"] for e in window] == inside
    assert len(window) >= 4
    on_one_slot = await entries(api, entityId=slots[1]["id"], actorId=patient.id)
    assert [e["action"] for e in on_one_slot] == ["slot.locked", "slot.unlocked"]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await entries(api, actorId=patient.id, **{"from": later}) == []


async def test_only_admins_read_the_log_and_bad_arguments_are_refused(api: Api, store: Any) -> None:
    patient = await api.patient()
    clinic = await api.clinic()
    assert (await api.gql(AUDIT_LOG, {}, patient.token)).code == "FORBIDDEN"
    assert (await api.gql(AUDIT_LOG, {}, clinic.doctor_token)).code == "FORBIDDEN"
    assert (await api.gql(AUDIT_LOG, {})).code == "UNAUTHENTICATED"
    now = datetime.now(UTC)
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "MjAyNnxub3QtYW4taWQ="}, "after"),
        ({"entityId": "nope"}, "entityId"),
        ({"actorId": "12345"}, "actorId"),
        ({"from": now.isoformat(), "to": (now - timedelta(seconds=1)).isoformat()}, "to"),
        ({"from": "2026-01-20T10:00:00"}, "from"),
    ]
    # The admin's own entries: the server's housekeeping may write others meanwhile.
    admins = {"actor_id": ObjectId(api.admin.id)}
    before = await store.audit_log.count_documents(admins)
    for arguments, field in refusals:
        reply = await api.gql(AUDIT_LOG, arguments, api.admin.token)
        assert reply.code == "BAD_USER_INPUT", (arguments, reply.body)
        assert reply.error["extensions"]["field"] == field, (arguments, reply.body)
        assert reply.body["data"] is None
    assert await store.audit_log.count_documents(admins) == before, "a refusal writes nothing"


async def test_a_failed_audit_write_is_logged_and_counted_not_hidden(
    api: Api, store_uri: str, log_dir: Path, http: httpx.AsyncClient
) -> None:
    """A store that refuses the entry (here: a unique index on request ids, in a database of
    its own) leaves the change made, the failure in the log and in /healthz's count."""
    from pymongo import AsyncMongoClient

    database = f"aayulink_audit_{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri, tz_aware=True)
    try:
        await client[database].audit_log.create_index(
            "request_id", unique=True, partialFilterExpression={"request_id": {"$type": "string"}}
        )
        server = ApiServer(store_uri, database).start(log_dir)
        try:
            local = GraphQL(http, server.url)
            admin = await Api.login_admin(local)
            health = (await http.get(server.url.replace("/graphql", "/healthz"))).json()
            assert health == {"status": "ok", "auditWriteFailures": 0}
            same_id = request_id()
            names = [unique("Twice "), unique("Twice ")]
            for name in names:
                reply = await http.post(
                    server.url,
                    json={
                        "query": CREATE_SPECIALTY,
                        "variables": {"n": name},
                    },
                    headers={"Authorization": f"Bearer {admin.token}", "X-Request-ID": same_id},
                )
                assert not reply.json().get("errors"), reply.json()
            listed = await local("{ specialties { name } }")
            assert set(names) <= {s["name"] for s in listed.data["specialties"]}, "both made"
            health = (await http.get(server.url.replace("/graphql", "/healthz"))).json()
            assert health == {"status": "ok", "auditWriteFailures": 1}
            logs = server.logs()
            assert "audit write failed (1 so far): specialty.created" in logs
        finally:
            server.stop()
        assert await client[database].audit_log.count_documents({"request_id": same_id}) == 1
    finally:
        await client.drop_database(database)
        await client.close()


def crash_stamp(now: datetime) -> dict[str, object]:
    """What a booking's claim writes before the process dies, leaving no appointment."""
    return {"booked_at": now, "awaiting_check": True, "updated_at": now}


async def _confirmed_moved_and_cancelled_by_staff(
    api: Api,
) -> tuple[Clinic, Person, str, dict[str, Any]]:
    """A patient's booking that its doctor confirmed and an admin moved, then cancelled."""
    clinic = await api.clinic()
    first, second = (
        await api.slot(clinic, "11:00", "11:30"),
        await api.slot(clinic, "12:00", "12:30"),
    )
    patient = await api.patient()
    appointment_id = (await api.book(first["id"], patient)).data["bookAppointment"]["id"]
    doctor = Person("", clinic.doctor_token, "", clinic.doctor_email)
    await send(api, SET_STATUS, {"id": appointment_id, "status": "CONFIRMED"}, doctor)
    await send(api, RESCHEDULE, {"id": appointment_id, "slotId": second["id"]}, api.admin)
    await send(api, CANCEL, {"id": appointment_id}, api.admin)
    return clinic, patient, appointment_id, second


async def _as_read_by(api: Api, appointment_id: str, token: str) -> tuple[dict[str, Any], str]:
    """What the reader gets, and the whole response as text (to look for leaked accounts)."""
    reply = await api.gql(WHO_ACTED, {"id": appointment_id}, token)
    return reply.data["appointment"], json.dumps(reply.body)


async def test_a_patient_sees_staff_by_role_never_their_accounts(api: Api) -> None:
    clinic, patient, appointment_id, _ = await _confirmed_moved_and_cancelled_by_staff(api)
    as_admin, _ = await _as_read_by(api, appointment_id, api.admin.token)
    doctor_account = as_admin["history"][1]["actor"]
    assert doctor_account["email"] == clinic.doctor_email

    seen, text = await _as_read_by(api, appointment_id, patient.token)
    for leaked in (api.admin.id, api.admin.email, doctor_account["id"], clinic.doctor_email):
        assert leaked not in text, leaked
    booked, confirmed, moved, cancelled = seen["history"]
    assert booked["actor"] == {"id": patient.id, "email": patient.email}, "its own account"
    assert (booked["actorRole"], booked["actorDoctor"]) == ("PATIENT", None)
    assert booked["after"]["patientId"] == patient.id
    assert confirmed["actor"] is None and confirmed["actorRole"] == "DOCTOR"
    assert confirmed["actorDoctor"]["id"] == clinic.doctor_id, "the doctor's public profile"
    for by_admin in (moved, cancelled):
        assert (by_admin["actor"], by_admin["actorRole"], by_admin["actorDoctor"]) == (
            None,
            "ADMIN",
            None,
        )
    assert cancelled["after"]["status"] == "CANCELLED"
    assert "cancelledBy" not in cancelled["after"], "the admin's id is left out"
    assert cancelled["after"]["cancellationReason"] == "ill"
    assert (seen["cancelledBy"], seen["cancelledByRole"]) == (None, "ADMIN")


async def test_an_admin_still_sees_every_account(api: Api) -> None:
    clinic, patient, appointment_id, _ = await _confirmed_moved_and_cancelled_by_staff(api)
    seen, _ = await _as_read_by(api, appointment_id, api.admin.token)
    admin_account = {"id": api.admin.id, "email": api.admin.email}
    assert [e["actor"] for e in seen["history"][::2]] == [
        {"id": patient.id, "email": patient.email},
        admin_account,
    ]
    assert seen["history"][1]["actor"]["email"] == clinic.doctor_email
    assert seen["history"][3]["actor"] == admin_account
    assert [e["actorRole"] for e in seen["history"]] == ["PATIENT", "DOCTOR", "ADMIN", "ADMIN"]
    assert seen["history"][3]["after"]["cancelledBy"] == api.admin.id
    assert (seen["cancelledBy"], seen["cancelledByRole"]) == (admin_account, "ADMIN")
    # The log shows the same entries in full.
    logged = await entries(api, entityId=appointment_id)
    assert logged[3]["actor"] == {"id": api.admin.id, "role": "ADMIN"}
    assert logged[3]["after"]["cancelledBy"] == api.admin.id


async def test_a_doctor_sees_its_own_and_its_patients_accounts_and_admins_by_role(
    api: Api,
) -> None:
    clinic, patient, appointment_id, _ = await _confirmed_moved_and_cancelled_by_staff(api)
    seen, text = await _as_read_by(api, appointment_id, clinic.doctor_token)
    assert api.admin.id not in text and api.admin.email not in text
    booked, confirmed, moved, cancelled = seen["history"]
    assert booked["actor"] == {"id": patient.id, "email": patient.email}, "its patient"
    assert booked["after"]["patientId"] == patient.id
    assert confirmed["actor"]["email"] == clinic.doctor_email, "its own account"
    assert confirmed["actorDoctor"]["id"] == clinic.doctor_id
    for by_admin in (moved, cancelled):
        assert (by_admin["actor"], by_admin["actorRole"]) == (None, "ADMIN")
    assert "cancelledBy" not in cancelled["after"]
    assert (seen["cancelledBy"], seen["cancelledByRole"]) == (None, "ADMIN")


async def test_a_patient_who_cancels_sees_itself_as_the_canceller(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "13:00", "13:30")
    patient = await api.patient()
    appointment_id = (await api.book(slot["id"], patient)).data["bookAppointment"]["id"]
    await send(api, CANCEL, {"id": appointment_id}, patient)
    seen, _ = await _as_read_by(api, appointment_id, patient.token)
    assert seen["cancelledBy"] == {"id": patient.id, "email": patient.email}
    assert seen["cancelledByRole"] == "PATIENT"
    assert seen["history"][-1]["after"]["cancelledBy"] == patient.id
    as_doctor, _ = await _as_read_by(api, appointment_id, clinic.doctor_token)
    assert as_doctor["cancelledBy"] == {"id": patient.id, "email": patient.email}


HISTORY_UPDATES = """subscription {
  appointmentUpdates {
    kind appointment { id history { action actor { id } actorRole } }
  }
}"""


async def test_the_doctor_an_appointment_left_sees_its_history_in_the_event_only(
    api: Api, server_a: ApiServer
) -> None:
    """The RESCHEDULED event shows the old doctor the appointment it lost, history included;
    afterwards the appointment is another doctor's, and not found for this one."""
    clinic = await api.clinic()
    other = await colleague(api, clinic)
    patient = await api.patient()
    old = await api.slot(clinic, "14:00", "14:30")
    new = await api.slot(other, "15:00", "15:30")
    appointment_id = (await api.book(old["id"], patient)).data["bookAppointment"]["id"]
    probe_slot = (await api.slot(clinic, "16:00", "16:30"))["id"]

    def is_probe(data: Payload) -> bool:
        """Any other appointment's event: the probes' own, which may arrive late."""
        return str(data["appointmentUpdates"]["appointment"]["id"]) != appointment_id

    async def probe() -> None:
        booked = (await api.book(probe_slot, await api.patient())).data["bookAppointment"]["id"]
        await send(api, CANCEL, {"id": booked}, api.admin)

    async with connect(server_a.ws_url, clinic.doctor_token) as old_doctor_ws:
        listener = old_doctor_ws.subscribe(HISTORY_UPDATES, skip=is_probe)
        await until_ready([listener], probe)
        await send(api, RESCHEDULE, {"id": appointment_id, "slotId": new["id"]}, api.admin)
        event = (await listener.next())["appointmentUpdates"]
    assert event["kind"] == "RESCHEDULED"
    assert event["appointment"]["id"] == appointment_id
    booked, moved = event["appointment"]["history"]
    assert (booked["action"], booked["actor"]) == ("appointment.booked", {"id": patient.id})
    assert (moved["action"], moved["actor"], moved["actorRole"]) == (
        "appointment.rescheduled",
        None,
        "ADMIN",
    )
    afterwards = await api.gql(HISTORY, {"id": appointment_id}, clinic.doctor_token)
    assert afterwards.code == "NOT_FOUND"
    as_new_doctor = await api.gql(HISTORY, {"id": appointment_id}, other.doctor_token)
    assert len(as_new_doctor.data["appointment"]["history"]) == 2

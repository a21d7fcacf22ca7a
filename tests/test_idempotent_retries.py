"""lockSlot, cancelAppointment and rescheduleAppointment with an idempotencyKey: a retry after
an unknown outcome returns the first result and writes nothing more, on either API process;
a key used for another request is refused by name; keys are per caller."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, Clinic, GraphQL, Person, Response

Store = AsyncDatabase[dict[str, Any]]

LOCK = """mutation($slotId: ID!, $patientId: ID, $idempotencyKey: String) {
  lockSlot(slotId: $slotId, patientId: $patientId, idempotencyKey: $idempotencyKey) {
    id state updatedAt lock { lockedAt expiresAt lockedByMe patient { id } }
  }
}"""
CANCEL = """mutation($id: ID!, $reason: String, $idempotencyKey: String) {
  cancelAppointment(id: $id, reason: $reason, idempotencyKey: $idempotencyKey) {
    id status cancelledAt cancellationReason updatedAt slot { id state }
  }
}"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!, $idempotencyKey: String) {
  rescheduleAppointment(id: $id, slotId: $slotId, idempotencyKey: $idempotencyKey) {
    id status updatedAt slot { id state }
  }
}"""
# Without the slot: a duplicate may answer before the first request has freed it.
CANCEL_ONLY = """mutation($id: ID!, $idempotencyKey: String) {
  cancelAppointment(id: $id, idempotencyKey: $idempotencyKey) { id status cancelledAt updatedAt }
}"""
BOOK = """mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"""


async def send(gql: GraphQL, who: Person, query: str, **variables: Any) -> Response:
    """Sent as ASCII JSON, so that strings with lone surrogates travel as `\\ud800` escapes;
    `key` is the idempotencyKey."""
    if "key" in variables:
        variables["idempotencyKey"] = variables.pop("key")
    reply = await gql.http.post(
        gql.url,
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {who.token}", "Content-Type": "application/json"},
    )
    return Response(reply.json(), reply.status_code)


async def booked(api: Api, clinic: Clinic, patient: Person, start: str = "09:00") -> str:
    hour = int(start[:2])
    slot = await api.slot(clinic, start, f"{hour:02d}:30")
    reply = await send(api.gql, patient, BOOK, input={"slotId": slot["id"]})
    return str(reply.data["bookAppointment"]["id"])


AUDIT_LOG = """query($id: ID!) {
  auditLog(entityId: $id, first: 100) { edges { node { action } } }
}"""


async def audited(api: Api, entity_id: str, action: str) -> int:
    """Through the log as an admin reads it: owed entries (app/domain/audit/owed.py) count."""
    reply = await api.gql(AUDIT_LOG, {"id": entity_id}, api.admin.token)
    return [e["node"]["action"] for e in reply.data["auditLog"]["edges"]].count(action)


async def stored(store: Store, collection: str, doc_id: str) -> dict[str, Any]:
    found = await store[collection].find_one({"_id": ObjectId(doc_id)})
    assert found is not None
    return found


# lockSlot


async def test_a_lock_retried_with_its_key_is_the_first_lock(
    api: Api, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    first = (await send(api.gql, patient, LOCK, slotId=slot["id"], key="hold-1")).data
    written = await stored(store, "slots", slot["id"])
    again = (await send(gql_b, patient, LOCK, slotId=slot["id"], key="hold-1")).data
    assert again == first
    assert first["lockSlot"]["state"] == "LOCKED"
    after = await stored(store, "slots", slot["id"])
    assert after["updated_at"] == written["updated_at"]
    assert after["booking_lock"] == written["booking_lock"]
    assert await audited(api, slot["id"], "slot.locked") == 1
    # Without the key the same call renews: a new request.
    renewed = (await api.lock(slot["id"], patient)).data["lockSlot"]
    assert renewed["lock"]["expiresAt"] >= first["lockSlot"]["lock"]["expiresAt"]
    assert await audited(api, slot["id"], "slot.locked") == 2


async def test_a_lock_key_reused_for_another_slot_is_refused(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30")
    other = await api.slot(clinic, "10:00", "10:30")
    patient = await api.patient()
    assert (await send(api.gql, patient, LOCK, slotId=slot["id"], key="k")).data
    reply = await send(api.gql, patient, LOCK, slotId=other["id"], key="k")
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "idempotencyKey"
    assert (await stored(store, "slots", other["id"])).get("booking_lock") in ({}, None)
    assert await audited(api, other["id"], "slot.locked") == 0


async def test_a_lock_key_reused_for_another_patient_is_refused(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    one, two = await api.patient(), await api.patient()
    admin = api.admin
    first = await send(api.gql, admin, LOCK, slotId=slot["id"], patientId=one.id, key="desk-1")
    assert first.data["lockSlot"]["lock"]["patient"]["id"] == one.id
    reply = await send(api.gql, admin, LOCK, slotId=slot["id"], patientId=two.id, key="desk-1")
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "idempotencyKey"
    assert (await stored(store, "slots", slot["id"]))["booking_lock"]["patient_id"] == ObjectId(
        one.id
    )


async def test_lock_keys_are_per_caller(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30")
    other = await api.slot(clinic, "10:00", "10:30")
    one, two = await api.patient(), await api.patient()
    a = (await send(api.gql, one, LOCK, slotId=slot["id"], key="same")).data["lockSlot"]
    b = (await send(api.gql, two, LOCK, slotId=other["id"], key="same")).data["lockSlot"]
    assert a["lock"]["lockedByMe"] and b["lock"]["lockedByMe"]


async def test_a_lock_refused_over_the_limit_is_not_replayed(api: Api, store: Store) -> None:
    """A lock refused over the limit leaves no key behind: its retry is refused again."""
    clinic = await api.clinic()
    patient = await api.patient()
    limit = 2  # MAX_LOCKS_PER_PATIENT's default
    slots = [await api.slot(clinic, f"{8 + i:02d}:00", f"{8 + i:02d}:30") for i in range(limit)]
    for s in slots:
        assert (await api.lock(s["id"], patient)).data
    extra = await api.slot(clinic, "14:00", "14:30")
    for _ in range(2):
        reply = await send(api.gql, patient, LOCK, slotId=extra["id"], key="one-more")
        assert reply.code == "LOCK_LIMIT_REACHED", reply.body
    assert (await stored(store, "slots", extra["id"])).get("booking_lock") in ({}, None)


async def test_concurrent_lock_retries_with_one_key_lock_once(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    replies = await asyncio.gather(
        *(
            send(gql if i % 2 else gql_b, patient, LOCK, slotId=slot["id"], key="rush")
            for i in range(5)
        )
    )
    locks = {json.dumps(r.data["lockSlot"], sort_keys=True) for r in replies}
    assert len(locks) == 1, [r.body for r in replies]
    assert await audited(api, slot["id"], "slot.locked") == 1


# cancelAppointment


async def test_a_cancel_retried_with_its_key_is_the_first_cancel(
    api: Api, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient)
    first = (
        await send(api.gql, patient, CANCEL, id=appointment, reason="better", key="cancel-1")
    ).data
    written = await stored(store, "appointments", appointment)
    again = (
        await send(gql_b, patient, CANCEL, id=appointment, reason="better", key="cancel-1")
    ).data
    assert again == first
    assert first["cancelAppointment"]["status"] == "CANCELLED"
    assert (await stored(store, "appointments", appointment))["updated_at"] == written["updated_at"]
    assert await audited(api, appointment, "appointment.cancelled") == 1
    # Without the key the second cancel is what it always was: an invalid transition.
    reply = await send(api.gql, patient, CANCEL, id=appointment, reason="better")
    assert reply.code == "INVALID_TRANSITION", reply.body


async def test_a_cancel_key_reused_with_another_reason_is_refused(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient)
    assert (await send(api.gql, patient, CANCEL, id=appointment, reason="a", key="c")).data
    reply = await send(api.gql, patient, CANCEL, id=appointment, reason="b", key="c")
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "idempotencyKey"
    assert (await stored(store, "appointments", appointment))["cancellation_reason"] == "a"


async def test_a_cancel_key_reused_for_another_appointment_is_refused(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    first = await booked(api, clinic, patient, "09:00")
    second = await booked(api, clinic, patient, "11:00")
    assert (await send(api.gql, patient, CANCEL, id=first, key="c")).data
    reply = await send(api.gql, patient, CANCEL, id=second, key="c")
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "idempotencyKey"
    still = await stored(store, "appointments", second)
    assert still["status"] == "SCHEDULED"
    assert (await stored(store, "slots", str(still["slot_id"])))["is_booked"] is True
    assert await audited(api, second, "appointment.cancelled") == 0


async def test_concurrent_cancel_retries_with_one_key_cancel_once(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient)
    replies = await asyncio.gather(
        *(
            send(gql if i % 2 else gql_b, patient, CANCEL_ONLY, id=appointment, key="rush")
            for i in range(5)
        )
    )
    answers = {json.dumps(r.data["cancelAppointment"], sort_keys=True) for r in replies}
    assert len(answers) == 1, [r.body for r in replies]
    assert await audited(api, appointment, "appointment.cancelled") == 1


# rescheduleAppointment


async def test_a_reschedule_retried_with_its_key_is_the_first_move(
    api: Api, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient, "09:00")
    old_slot = (await stored(store, "appointments", appointment))["slot_id"]
    target = await api.slot(clinic, "11:00", "11:30")
    first = (
        await send(api.gql, patient, RESCHEDULE, id=appointment, slotId=target["id"], key="m-1")
    ).data
    written = await stored(store, "appointments", appointment)
    again = (
        await send(gql_b, patient, RESCHEDULE, id=appointment, slotId=target["id"], key="m-1")
    ).data
    assert again == first
    assert first["rescheduleAppointment"]["slot"] == {"id": target["id"], "state": "BOOKED"}
    after = await stored(store, "appointments", appointment)
    assert after["updated_at"] == written["updated_at"]
    assert after["slot_id"] == ObjectId(target["id"])
    assert (await stored(store, "slots", str(old_slot)))["is_booked"] is False
    assert await audited(api, appointment, "appointment.rescheduled") == 1


async def test_a_reschedule_key_reused_for_another_slot_is_refused(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient, "09:00")
    target = await api.slot(clinic, "11:00", "11:30")
    elsewhere = await api.slot(clinic, "13:00", "13:30")
    assert (
        await send(api.gql, patient, RESCHEDULE, id=appointment, slotId=target["id"], key="m")
    ).data
    reply = await send(
        api.gql, patient, RESCHEDULE, id=appointment, slotId=elsewhere["id"], key="m"
    )
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "idempotencyKey"
    assert (await stored(store, "appointments", appointment))["slot_id"] == ObjectId(target["id"])
    assert (await stored(store, "slots", elsewhere["id"]))["is_booked"] is False


async def test_a_reschedule_key_reused_for_another_appointment_is_refused(
    api: Api, store: Store
) -> None:
    """Refused by the unique index in the move's own write; the claimed slot is given back."""
    clinic = await api.clinic()
    patient = await api.patient()
    first = await booked(api, clinic, patient, "08:00")
    second = await booked(api, clinic, patient, "10:00")
    target = await api.slot(clinic, "12:00", "12:30")
    other_target = await api.slot(clinic, "14:00", "14:30")
    assert (await send(api.gql, patient, RESCHEDULE, id=first, slotId=target["id"], key="m")).data
    reply = await send(api.gql, patient, RESCHEDULE, id=second, slotId=other_target["id"], key="m")
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "idempotencyKey"
    assert (await stored(store, "slots", other_target["id"]))["is_booked"] is False
    assert await audited(api, second, "appointment.rescheduled") == 0


async def test_a_cancel_may_not_reuse_a_reschedules_key(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient, "09:00")
    target = await api.slot(clinic, "11:00", "11:30")
    assert (
        await send(api.gql, patient, RESCHEDULE, id=appointment, slotId=target["id"], key="x")
    ).data
    reply = await send(api.gql, patient, CANCEL, id=appointment, key="x")
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert (await stored(store, "appointments", appointment))["status"] == "SCHEDULED"


async def test_concurrent_reschedule_retries_with_one_key_move_once(
    api: Api, gql: GraphQL, gql_b: GraphQL, store: Store
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient, "09:00")
    target = await api.slot(clinic, "11:00", "11:30")
    replies = await asyncio.gather(
        *(
            send(
                gql if i % 2 else gql_b,
                patient,
                RESCHEDULE,
                id=appointment,
                slotId=target["id"],
                key="rush",
            )
            for i in range(5)
        )
    )
    answers = {json.dumps(r.data["rescheduleAppointment"], sort_keys=True) for r in replies}
    assert len(answers) == 1, [r.body for r in replies]
    assert await audited(api, appointment, "appointment.rescheduled") == 1
    assert await audited(api, target["id"], "slot.booked") == 1


# Key validation, for each mutation


BAD_KEYS = ["", "x" * 129, "line\nbreak", "nul\x00", "\ud800", "\u200b"]


@pytest.mark.parametrize("key", [*BAD_KEYS, 12])
async def test_bad_lock_keys_are_refused_and_nothing_written(
    api: Api, store: Store, key: Any
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    reply = await send(api.gql, patient, LOCK, slotId=slot["id"], key=key)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"].get("field") == "idempotencyKey"
    assert (await stored(store, "slots", slot["id"])).get("booking_lock") in ({}, None)


@pytest.mark.parametrize("key", [*BAD_KEYS, 12])
async def test_bad_cancel_keys_are_refused_and_nothing_written(
    api: Api, store: Store, key: Any
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient)
    reply = await send(api.gql, patient, CANCEL, id=appointment, key=key)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"].get("field") == "idempotencyKey"
    assert (await stored(store, "appointments", appointment))["status"] == "SCHEDULED"


@pytest.mark.parametrize("key", [*BAD_KEYS, 12])
async def test_bad_reschedule_keys_are_refused_and_nothing_written(
    api: Api, store: Store, key: Any
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    appointment = await booked(api, clinic, patient, "09:00")
    target = await api.slot(clinic, "11:00", "11:30")
    reply = await send(api.gql, patient, RESCHEDULE, id=appointment, slotId=target["id"], key=key)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"].get("field") == "idempotencyKey"
    assert (await stored(store, "slots", target["id"]))["is_booked"] is False

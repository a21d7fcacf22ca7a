"""lockSlot / unlockSlot through the HTTP endpoint: holding, renewal, the limit, roles, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, GraphQL, Person, Response
from tests.servers import ApiServer

Store = AsyncDatabase[dict[str, Any]]

SHORT_TTL_SECONDS = 2
SWEEP_INTERVAL_SECONDS = 0.5
SWEEP = timedelta(seconds=SWEEP_INTERVAL_SECONDS)

SLOT = """query($id: ID!) {
  slot(id: $id) { id state isBooked lock { lockedAt expiresAt lockedByMe patient { id } } }
}"""
UNLOCK = """mutation($slotId: ID!) {
  unlockSlot(slotId: $slotId) { id state lock { lockedByMe patient { id } } }
}"""
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id state isAvailable }
}"""
REMOVE_SLOT = """mutation($id: ID!) { removeSlot(id: $id) { id } }"""


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no UTC offset"
    return parsed


async def slot_doc(store: Store, slot_id: str) -> dict[str, Any]:
    found = await store.slots.find_one({"_id": ObjectId(slot_id)})
    assert found is not None, f"slot {slot_id} is not in the store"
    return found


async def read_slot(api: Api, slot_id: str, who: Person | None) -> dict[str, Any]:
    reply = await api.gql(SLOT, {"id": slot_id}, who.token if who else None)
    return dict(reply.data["slot"])


async def unlock(api: Api, slot_id: str, who: Person) -> Response:
    return await api.gql(UNLOCK, {"slotId": slot_id}, who.token)


async def wait_until(
    check: Callable[[], Awaitable[bool]], within: float = 20.0, interval: float = 0.25
) -> bool:
    """Polls `check` until it holds or `within` seconds pass; says which happened."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if await check():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)


# --- holding a slot -------------------------------------------------------------------


async def test_patient_locks_an_available_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()

    locked = (await api.lock(slot["id"], patient)).data["lockSlot"]

    assert locked["id"] == slot["id"]
    assert locked["state"] == "LOCKED"
    lock = locked["lock"]
    assert lock["lockedByMe"] is True
    assert lock["patient"] is None  # only an admin is told who holds it, even the holder
    ttl = (instant(lock["expiresAt"]) - instant(lock["lockedAt"])).total_seconds()
    assert abs(ttl - 300) < 1
    stored = (await slot_doc(store, slot["id"]))["booking_lock"]
    assert stored["is_active"] is True
    assert str(stored["patient_id"]) == patient.id
    assert stored["expires_at"] == instant(lock["expiresAt"])


async def test_another_patient_cannot_take_a_held_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    holder, other = await api.patient(), await api.patient()
    held = (await api.lock(slot["id"], holder)).data["lockSlot"]["lock"]

    refused = await api.lock(slot["id"], other)

    assert refused.code == "SLOT_LOCKED"
    expires_at = refused.error["extensions"]["expiresAt"]
    assert instant(expires_at) == instant(held["expiresAt"])
    stored = (await slot_doc(store, slot["id"]))["booking_lock"]
    assert str(stored["patient_id"]) == holder.id


async def test_lock_holder_is_hidden_from_other_patients_but_not_from_admin(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    holder, other = await api.patient(), await api.patient()
    assert (await api.lock(slot["id"], holder)).data["lockSlot"]["state"] == "LOCKED"

    seen_by_other = await read_slot(api, slot["id"], other)
    assert seen_by_other["state"] == "LOCKED"
    assert seen_by_other["lock"]["lockedByMe"] is False
    assert seen_by_other["lock"]["patient"] is None

    seen_anonymously = await read_slot(api, slot["id"], None)
    assert seen_anonymously["lock"]["lockedByMe"] is False
    assert seen_anonymously["lock"]["patient"] is None

    seen_by_doctor = await api.gql(SLOT, {"id": slot["id"]}, clinic.doctor_token)
    assert seen_by_doctor.data["slot"]["lock"]["patient"] is None

    seen_by_holder = await read_slot(api, slot["id"], holder)
    assert seen_by_holder["lock"]["lockedByMe"] is True

    seen_by_admin = await read_slot(api, slot["id"], api.admin)
    assert seen_by_admin["lock"]["lockedByMe"] is False
    assert seen_by_admin["lock"]["patient"] == {"id": holder.id}


async def test_locking_again_renews_the_hold(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    first = (await api.lock(slot["id"], patient)).data["lockSlot"]["lock"]
    await asyncio.sleep(0.05)  # the store keeps milliseconds: let the clock move on

    renewed = (await api.lock(slot["id"], patient)).data["lockSlot"]

    assert renewed["state"] == "LOCKED"
    assert renewed["lock"]["lockedByMe"] is True
    assert instant(renewed["lock"]["expiresAt"]) > instant(first["expiresAt"])
    stored = (await slot_doc(store, slot["id"]))["booking_lock"]
    assert stored["expires_at"] == instant(renewed["lock"]["expiresAt"])
    assert str(stored["patient_id"]) == patient.id


# --- the lock limit -------------------------------------------------------------------


async def test_a_patient_holds_at_most_two_locks(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    first = await api.slot(clinic, "09:00", "09:30")
    second = await api.slot(clinic, "09:30", "10:00")
    third = await api.slot(clinic, "10:00", "10:30")
    patient = await api.patient()
    assert (await api.lock(first["id"], patient)).data["lockSlot"]["state"] == "LOCKED"
    assert (await api.lock(second["id"], patient)).data["lockSlot"]["state"] == "LOCKED"

    refused = await api.lock(third["id"], patient)

    assert refused.code == "LOCK_LIMIT_REACHED"
    assert (await slot_doc(store, third["id"]))["booking_lock"].get("is_active") is None
    assert (await read_slot(api, third["id"], patient))["state"] == "AVAILABLE"
    # Renewing a lock already held is not a new lock.
    assert (await api.lock(second["id"], patient)).data["lockSlot"]["state"] == "LOCKED"
    # Another patient is not limited by this patient's locks.
    assert (await api.lock(third["id"], await api.patient())).data["lockSlot"]["state"] == "LOCKED"


async def test_unlocking_one_lock_makes_room_for_another(api: Api) -> None:
    clinic = await api.clinic()
    first = await api.slot(clinic, "11:00", "11:30")
    second = await api.slot(clinic, "11:30", "12:00")
    third = await api.slot(clinic, "12:00", "12:30")
    patient = await api.patient()
    await api.lock(first["id"], patient)
    await api.lock(second["id"], patient)
    assert (await api.lock(third["id"], patient)).code == "LOCK_LIMIT_REACHED"

    assert (await unlock(api, first["id"], patient)).data["unlockSlot"]["state"] == "AVAILABLE"

    locked = (await api.lock(third["id"], patient)).data["lockSlot"]
    assert locked["state"] == "LOCKED"
    assert locked["lock"]["lockedByMe"] is True


# --- unlocking ------------------------------------------------------------------------


async def test_holder_unlocks(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    await api.lock(slot["id"], patient)

    unlocked = (await unlock(api, slot["id"], patient)).data["unlockSlot"]

    assert unlocked["state"] == "AVAILABLE"
    assert unlocked["lock"] is None
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None
    assert (await read_slot(api, slot["id"], None))["state"] == "AVAILABLE"


async def test_another_patient_cannot_unlock(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    holder, other = await api.patient(), await api.patient()
    held = (await api.lock(slot["id"], holder)).data["lockSlot"]["lock"]

    refused = await unlock(api, slot["id"], other)

    assert refused.code == "SLOT_LOCKED"
    assert instant(refused.error["extensions"]["expiresAt"]) == instant(held["expiresAt"])
    stored = (await slot_doc(store, slot["id"]))["booking_lock"]
    assert stored["is_active"] is True
    assert str(stored["patient_id"]) == holder.id
    assert (await read_slot(api, slot["id"], holder))["lock"]["lockedByMe"] is True


async def test_doctor_cannot_unlock(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    await api.lock(slot["id"], patient)

    refused = await api.gql(UNLOCK, {"slotId": slot["id"]}, clinic.doctor_token)

    assert refused.code == "FORBIDDEN"
    assert (await slot_doc(store, slot["id"]))["booking_lock"]["is_active"] is True


async def test_admin_can_unlock_a_patients_lock(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    await api.lock(slot["id"], patient)

    unlocked = (await unlock(api, slot["id"], api.admin)).data["unlockSlot"]

    assert unlocked["state"] == "AVAILABLE"
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None


async def test_unlock_errors(api: Api) -> None:
    patient = await api.patient()
    assert (await unlock(api, "not-an-id", patient)).code == "BAD_USER_INPUT"
    assert (await unlock(api, "not-an-id", patient)).error["extensions"]["field"] == "slotId"
    assert (await unlock(api, str(ObjectId()), patient)).code == "NOT_FOUND"
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    assert (await api.gql(UNLOCK, {"slotId": slot["id"]})).code == "UNAUTHENTICATED"


# --- who may lock ---------------------------------------------------------------------


async def test_admin_locks_on_a_patients_behalf(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()

    locked = (await api.lock(slot["id"], api.admin, patient.id)).data["lockSlot"]

    assert locked["state"] == "LOCKED"
    assert locked["lock"]["patient"] == {"id": patient.id}
    assert locked["lock"]["lockedByMe"] is False
    assert str((await slot_doc(store, slot["id"]))["booking_lock"]["patient_id"]) == patient.id
    assert (await read_slot(api, slot["id"], patient))["lock"]["lockedByMe"] is True
    # The patient can book the slot held in its name.
    booked = (await api.book(slot["id"], patient)).data["bookAppointment"]
    assert booked["patient"]["id"] == patient.id


async def test_admin_must_name_a_patient(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)

    refused = await api.lock(slot["id"], api.admin)

    assert refused.code == "BAD_USER_INPUT"
    assert refused.error["extensions"]["field"] == "patientId"
    malformed = await api.lock(slot["id"], api.admin, "nope")
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "patientId"
    unknown = await api.lock(slot["id"], api.admin, str(ObjectId()))
    assert unknown.code == "NOT_FOUND"
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None


async def test_admin_cannot_lock_for_a_non_patient(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    refused = await api.lock(slot["id"], api.admin, api.admin.id)
    assert refused.code == "NOT_FOUND"
    assert refused.error["extensions"]["field"] == "patientId"


async def test_patient_cannot_lock_for_someone_else(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient, other = await api.patient(), await api.patient()

    refused = await api.lock(slot["id"], patient, other.id)

    assert refused.code == "FORBIDDEN"
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None
    # Naming itself is allowed.
    assert (await api.lock(slot["id"], patient, patient.id)).data["lockSlot"]["state"] == "LOCKED"


async def test_doctor_and_anonymous_cannot_lock(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)

    by_doctor = await api.gql(
        """mutation($slotId: ID!) { lockSlot(slotId: $slotId) { id } }""",
        {"slotId": slot["id"]},
        clinic.doctor_token,
    )
    anonymous = await api.gql(
        """mutation($slotId: ID!) { lockSlot(slotId: $slotId) { id } }""", {"slotId": slot["id"]}
    )

    assert by_doctor.code == "FORBIDDEN"
    assert anonymous.code == "UNAUTHENTICATED"
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None


# --- slots that cannot be held --------------------------------------------------------


async def test_locking_bad_or_unknown_slot_ids(api: Api) -> None:
    patient = await api.patient()
    malformed = await api.lock("12345", patient)
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "slotId"
    unknown = await api.lock(str(ObjectId()), patient)
    assert unknown.code == "NOT_FOUND"


async def test_locking_a_removed_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    await api.gql(REMOVE_SLOT, {"id": slot["id"]}, api.admin.token)
    patient = await api.patient()

    refused = await api.lock(slot["id"], patient)

    # The implementation says SLOT_UNAVAILABLE ("disabled, removed, or in the past").
    assert refused.code == "SLOT_UNAVAILABLE"
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None


async def test_locking_a_disabled_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    disabled = await api.gql(
        SET_AVAILABILITY, {"id": slot["id"], "isAvailable": False}, api.admin.token
    )
    assert disabled.data["setSlotAvailability"]["state"] == "UNAVAILABLE"
    patient = await api.patient()

    assert (await api.lock(slot["id"], patient)).code == "SLOT_UNAVAILABLE"
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None

    await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": True}, api.admin.token)
    assert (await api.lock(slot["id"], patient)).data["lockSlot"]["state"] == "LOCKED"


async def test_disabling_a_slot_drops_its_lock(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    await api.lock(slot["id"], patient)

    await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": False}, api.admin.token)

    assert (await read_slot(api, slot["id"], patient))["state"] == "UNAVAILABLE"
    assert (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None


async def test_locking_a_booked_slot(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    booker, other = await api.patient(), await api.patient()
    assert (await api.book(slot["id"], booker)).data["bookAppointment"]["status"] == "SCHEDULED"

    assert (await api.lock(slot["id"], other)).code == "SLOT_ALREADY_BOOKED"
    assert (await api.lock(slot["id"], booker)).code == "SLOT_ALREADY_BOOKED"
    stored = await slot_doc(store, slot["id"])
    assert stored["is_booked"] is True
    assert stored["booking_lock"].get("is_active") is None


# --- expiry, on a server with a two-second lock ---------------------------------------


@pytest.fixture(scope="module")
def short_ttl_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        store_uri,
        db_name,
        env={
            "SLOT_LOCK_TTL_SECONDS": str(SHORT_TTL_SECONDS),
            "LOCK_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_SECONDS),
        },
    ).start(log_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def short_api(http: httpx.AsyncClient, short_ttl_server: ApiServer, api: Api) -> Api:
    return Api(GraphQL(http, short_ttl_server.url), api.admin)


async def test_short_ttl_server_holds_for_its_ttl(api: Api, short_api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    lock = (await short_api.lock(slot["id"], patient)).data["lockSlot"]["lock"]
    ttl = (instant(lock["expiresAt"]) - instant(lock["lockedAt"])).total_seconds()
    assert abs(ttl - SHORT_TTL_SECONDS) < 0.5


async def test_expired_lock_is_released_by_the_server_on_its_own(
    api: Api, short_api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    holder, other = await api.patient(), await api.patient()
    lock = (await short_api.lock(slot["id"], holder)).data["lockSlot"]["lock"]
    expires_at = instant(lock["expiresAt"])
    assert (await slot_doc(store, slot["id"]))["booking_lock"]["is_active"] is True

    async def released() -> bool:
        return (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None

    # Nobody touches the slot through the API: only the store is read.
    assert await wait_until(released), "the expired lock was never released by the server"
    stored = await slot_doc(store, slot["id"])
    assert stored["booking_lock"] == {}  # nothing stored: out of the sparse lock index
    assert stored["updated_at"] >= expires_at  # released after, never before, its expiry
    assert stored["is_booked"] is False

    taken = (await api.lock(slot["id"], other)).data["lockSlot"]
    assert taken["state"] == "LOCKED"
    assert taken["lock"]["lockedByMe"] is True


async def test_expired_locks_stop_counting_towards_the_limit(
    api: Api, short_api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    first = await api.slot(clinic, "13:00", "13:30")
    second = await api.slot(clinic, "13:30", "14:00")
    third = await api.slot(clinic, "14:00", "14:30")
    patient = await api.patient()
    await short_api.lock(first["id"], patient)
    await short_api.lock(second["id"], patient)
    assert (await short_api.lock(third["id"], patient)).code == "LOCK_LIMIT_REACHED"

    async def both_released() -> bool:
        docs = [await slot_doc(store, s["id"]) for s in (first, second)]
        return all(d["booking_lock"].get("is_active") is None for d in docs)

    assert await wait_until(both_released)
    assert (await short_api.lock(third["id"], patient)).data["lockSlot"]["state"] == "LOCKED"


async def test_renewed_lock_is_not_released_at_its_old_expiry(
    api: Api, short_api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    first = (await short_api.lock(slot["id"], patient)).data["lockSlot"]["lock"]
    first_expiry = instant(first["expiresAt"])
    latest_expiry = first_expiry
    # Renew every half TTL until well past the first expiry (several sweeps), watching the
    # store between renewals: the lock must never be seen released.
    while datetime.now(UTC) < first_expiry + 3 * SWEEP:
        for _ in range(5):
            stored = (await slot_doc(store, slot["id"]))["booking_lock"]
            assert stored["is_active"] is True, "a renewed lock was released"
            assert str(stored["patient_id"]) == patient.id
            await asyncio.sleep(0.1)
        renewed = (await short_api.lock(slot["id"], patient)).data["lockSlot"]["lock"]
        assert renewed["lockedByMe"] is True
        assert instant(renewed["expiresAt"]) > latest_expiry
        latest_expiry = instant(renewed["expiresAt"])
    stored = (await slot_doc(store, slot["id"]))["booking_lock"]
    assert stored["is_active"] is True
    assert stored["expires_at"] == latest_expiry
    assert latest_expiry > first_expiry

    async def released() -> bool:
        return (await slot_doc(store, slot["id"]))["booking_lock"].get("is_active") is None

    # Left alone, the renewed lock does expire, at its new expiry.
    assert await wait_until(released)
    assert (await slot_doc(store, slot["id"]))["updated_at"] >= latest_expiry

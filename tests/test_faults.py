"""Crashes mid-rush: kill -9 an API worker, then the store, restart them, and check in the
store that no acknowledged booking was lost and no slot is doubled or left booked empty.

The rig has its own embedded store (SQLite on disk, so a restart finds the data) and two
API processes on it, so killing them disturbs no other test.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.models import ACTIVE_STATUSES
from app.store.embedded import EmbeddedStoreProcess
from tests.graphql_client import BOOK, LOCK, Api, GraphQL, Person
from tests.servers import ApiServer, free_port

Store = AsyncDatabase[dict[str, Any]]
LOCK_TTL_SECONDS = 3
PATIENTS = 24
SLOTS = 12
STAGGER_SECONDS = 0.05  # spreads the rush so the kill lands while requests are in flight
SETTLE_SECONDS = 60  # an upper bound for the reconciler to finish, polled, never a threshold
FAULT_ENV = {
    "SLOT_LOCK_TTL_SECONDS": str(LOCK_TTL_SECONDS),
    "LOCK_SWEEP_INTERVAL_SECONDS": "0.3",
    "STORE_TIMEOUT_SECONDS": "2",
    "RATE_LIMIT_LOCK": "1000/minute",
    "RATE_LIMIT_BOOKING": "1000/minute",
}


@dataclass
class Rig:
    store: EmbeddedStoreProcess
    servers: list[ApiServer]
    db_name: str
    log_dir: Path

    def restart_store(self) -> None:
        """The same data dir and port, so the running API processes find it again."""
        self.store.stop()
        self.store.start()


@dataclass
class Rush:
    """What the clients saw: bookings acknowledged with data, and every error code."""

    acknowledged: dict[str, tuple[str, str]] = field(default_factory=dict)  # appt -> slot, key
    codes: list[str] = field(default_factory=list)
    unanswered: int = 0
    first_ack: asyncio.Event = field(default_factory=asyncio.Event)
    keys: dict[str, str] = field(default_factory=dict)  # patient id -> idempotency key


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Rig]:
    store = EmbeddedStoreProcess("sqlite", tmp_path_factory.mktemp("fault-store"), free_port())
    uri = store.start()
    db_name = f"aayulink_faults_{uuid.uuid4().hex[:8]}"
    servers: list[ApiServer] = []
    try:
        for _ in range(2):
            servers.append(ApiServer(uri, db_name, env=FAULT_ENV).start(log_dir))
        yield Rig(store, servers, db_name, log_dir)
    finally:
        for server in servers:
            server.stop()
        store.stop()


@pytest_asyncio.fixture(scope="module")
async def fault_store(rig: Rig) -> AsyncIterator[Store]:
    assert rig.store.uri is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(rig.store.uri, tz_aware=True)
    yield client[rig.db_name]
    await client.close()


async def _setup(http: httpx.AsyncClient, rig: Rig) -> tuple[Api, list[str], list[Person]]:
    """A fresh doctor with SLOTS half-hour slots and PATIENTS patients (two per slot)."""
    gql = GraphQL(http, rig.servers[0].url)
    api = Api(gql, await Api.login_admin(gql))
    clinic = await api.clinic()
    slots = [
        (await api.slot(clinic, _clock(8 * 60 + 30 * i), _clock(8 * 60 + 30 * (i + 1))))["id"]
        for i in range(SLOTS)
    ]
    patients = [await api.patient(f"Rush {i}") for i in range(PATIENTS)]
    return api, slots, patients


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def _book(
    http: httpx.AsyncClient, url: str, patient: Person, slot_id: str, rush: Rush, delay: float
) -> None:
    """Lock then book with an idempotency key, as a careful client does."""
    await asyncio.sleep(delay)
    gql = GraphQL(http, url)
    key = rush.keys.setdefault(patient.id, str(uuid.uuid4()))
    try:
        locked = await gql(LOCK, {"slotId": slot_id}, patient.token)
        if locked.body.get("errors"):
            rush.codes.append(locked.code)
        booked = await gql(
            BOOK, {"input": {"slotId": slot_id, "idempotencyKey": key}}, patient.token
        )
    except httpx.TransportError:
        rush.unanswered += 1
        return
    if booked.body.get("errors"):
        rush.codes.append(booked.code)
        return
    appointment = booked.body["data"]["bookAppointment"]
    rush.acknowledged[appointment["id"]] = (slot_id, key)
    rush.first_ack.set()


def _rush(
    http: httpx.AsyncClient, rig: Rig, patients: list[Person], slots: list[str], rush: Rush
) -> list[asyncio.Task[None]]:
    """Two patients per slot, alternating between the two API processes."""
    return [
        asyncio.create_task(
            _book(
                http,
                rig.servers[i % 2].url,
                patient,
                slots[i % len(slots)],
                rush,
                i * STAGGER_SECONDS,
            )
        )
        for i, patient in enumerate(patients)
    ]


async def _problems(store: Store) -> list[str]:
    """The invariants, read straight from the store."""
    active = await store.appointments.find(
        {"status": {"$in": ACTIVE_STATUSES}}, {"slot_id": 1}
    ).to_list(None)
    held: dict[ObjectId, int] = {}
    for appointment in active:
        held[appointment["slot_id"]] = held.get(appointment["slot_id"], 0) + 1
    problems = [f"slot {slot} has {n} active appointments" for slot, n in held.items() if n > 1]
    booked = await store.slots.find({"is_booked": True}, {"_id": 1}).to_list(None)
    problems += [
        f"slot {s['_id']} is BOOKED with no appointment" for s in booked if s["_id"] not in held
    ]
    unbooked = await store.slots.find(
        {"_id": {"$in": list(held)}, "is_booked": False}, {"_id": 1}
    ).to_list(None)
    problems += [f"slot {s['_id']} has an appointment but is not BOOKED" for s in unbooked]
    return problems


async def _settled(store: Store) -> list[str]:
    """Polls until the reconciler has repaired what the crash left (one lock TTL + grace)."""
    problems: list[str] = []
    for _ in range(int(SETTLE_SECONDS / 0.5)):
        problems = await _problems(store)
        if not problems:
            break
        await asyncio.sleep(0.5)
    return problems


async def _assert_acknowledged_kept(store: Store, rush: Rush) -> None:
    for appointment_id, (slot_id, _) in rush.acknowledged.items():
        stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
        assert stored is not None, f"acknowledged appointment {appointment_id} was lost"
        assert stored["status"] == "SCHEDULED"
        assert stored["slot_id"] == ObjectId(slot_id)


async def _retry_all(
    http: httpx.AsyncClient, rig: Rig, patients: list[Person], slots: list[str], rush: Rush
) -> Rush:
    """Every patient books again with its first key; each acknowledged answer stands."""
    retry = Rush(keys=dict(rush.keys))
    await asyncio.gather(
        *(
            _book(http, rig.servers[i % 2].url, p, slots[i % len(slots)], retry, 0)
            for i, p in enumerate(patients)
        )
    )
    assert retry.unanswered == 0
    for appointment_id, (slot_id, key) in rush.acknowledged.items():
        # The same key gives back the same appointment: the first answer still stands.
        assert retry.acknowledged.get(appointment_id) == (slot_id, key)
    return retry


async def _assert_each_meant_booking_once(
    store: Store, patients: list[Person], retry: Rush
) -> None:
    """A patient whose booking was acknowledged (now or on retry) has exactly that one."""
    for patient in patients:
        key = retry.keys[patient.id]
        stored = await store.appointments.find(
            {"patient_id": ObjectId(patient.id), "status": {"$in": ACTIVE_STATUSES}}, {"_id": 1}
        ).to_list(None)
        acknowledged = [a for a, (_, k) in retry.acknowledged.items() if k == key]
        assert [str(a["_id"]) for a in stored] == acknowledged, patient.id


async def _answering(gql: GraphQL, admin: Person) -> bool:
    for _ in range(int(SETTLE_SECONDS / 0.5)):
        with contextlib.suppress(httpx.TransportError):
            reply = await gql("{ specialties { id } }", token=admin.token)
            if not reply.body.get("errors"):
                return True
        await asyncio.sleep(0.5)
    return False


async def test_killing_an_api_worker_mid_rush_loses_and_doubles_nothing(
    http: httpx.AsyncClient, rig: Rig, fault_store: Store
) -> None:
    _, slots, patients = await _setup(http, rig)
    rush = Rush()
    tasks = _rush(http, rig, patients, slots, rush)
    await rush.first_ack.wait()
    in_flight = sum(not task.done() for task in tasks)
    victim = rig.servers[1]
    assert victim.process is not None
    victim.process.kill()
    await asyncio.gather(*tasks)
    assert in_flight > 0, "the rush was over before the kill"
    victim.start(rig.log_dir)

    assert rush.acknowledged, rush.codes
    assert "INTERNAL_SERVER_ERROR" not in rush.codes, rush.codes
    # Every client retries what it did not see acknowledged, with the same key (and the
    # acknowledged ones too): a booking that committed unseen is given back, not doubled.
    retry = await _retry_all(http, rig, patients, slots, rush)
    assert "INTERNAL_SERVER_ERROR" not in retry.codes, retry.codes
    assert await _settled(fault_store) == []
    await _assert_acknowledged_kept(fault_store, rush)
    await _assert_each_meant_booking_once(fault_store, patients, retry)


async def test_killing_the_store_mid_rush_loses_and_doubles_nothing(
    http: httpx.AsyncClient, rig: Rig, fault_store: Store
) -> None:
    api, slots, patients = await _setup(http, rig)
    rush = Rush()
    tasks = _rush(http, rig, patients, slots, rush)
    await rush.first_ack.wait()
    in_flight = sum(not task.done() for task in tasks)
    assert rig.store.process is not None
    rig.store.process.kill()
    await asyncio.gather(*tasks)
    assert in_flight > 0, "the rush was over before the kill"

    # While the store is down a client gets a clear, retryable code, not a hang or a 500.
    down = await api.book(slots[0], patients[0], idempotencyKey=rush.keys[patients[0].id])
    assert down.code == "SERVICE_UNAVAILABLE", down.body
    assert "requestId" in down.error["extensions"]
    assert set(rush.codes) - {"SERVICE_UNAVAILABLE", "SLOT_LOCKED", "SLOT_ALREADY_BOOKED"} == set()

    rig.restart_store()
    assert await _answering(api.gql, api.admin)
    # Clients that got no acknowledgement retry with the same key; the acknowledged ones too.
    retry = await _retry_all(http, rig, patients, slots, rush)
    assert "INTERNAL_SERVER_ERROR" not in retry.codes, retry.codes

    assert await _settled(fault_store) == []
    await _assert_acknowledged_kept(fault_store, rush)
    await _assert_acknowledged_kept(fault_store, retry)

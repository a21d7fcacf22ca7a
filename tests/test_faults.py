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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient

from app.models import ACTIVE_STATUSES
from app.store.embedded import EmbeddedStoreProcess
from tests import booking_rush
from tests.booking_rush import Rush, Store
from tests.graphql_client import GraphQL, Person
from tests.servers import ApiServer, free_port

LOCK_TTL_SECONDS = 3
PATIENTS = 24
SLOTS = 12
STAGGER_SECONDS = 0.05  # spreads the rush so the kill lands while requests are in flight
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


def _urls(rig: Rig) -> list[str]:
    return [server.url for server in rig.servers]


async def _retry_all(
    http: httpx.AsyncClient, rig: Rig, patients: list[Person], slots: list[str], rush: Rush
) -> Rush:
    """Every patient books again with its first key; each acknowledged answer stands. As a
    careful client does, a request that got no HTTP answer at all (a kept-alive connection
    the server closed as it was reused) is sent again with the same key, up to twice."""
    retry = Rush(keys=dict(rush.keys))

    async def careful(i: int, patient: Person) -> None:
        for _ in range(3):
            one = Rush(keys={patient.id: rush.keys[patient.id]})
            await booking_rush.book(http, _urls(rig)[i % 2], patient, slots[i % len(slots)], one, 0)
            if not one.unanswered:
                retry.acknowledged.update(one.acknowledged)
                retry.errors += one.errors
                return
        retry.unanswered += 1

    await asyncio.gather(*(careful(i, p) for i, p in enumerate(patients)))
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
    for _ in range(int(booking_rush.SETTLE_SECONDS / 0.5)):
        with contextlib.suppress(httpx.TransportError):
            reply = await gql("{ specialties { id } }", token=admin.token)
            if not reply.body.get("errors"):
                return True
        await asyncio.sleep(0.5)
    return False


async def test_killing_an_api_worker_mid_rush_loses_and_doubles_nothing(
    http: httpx.AsyncClient, rig: Rig, fault_store: Store
) -> None:
    _, slots, patients = await booking_rush.setup(http, rig.servers[0].url, SLOTS, PATIENTS)
    rush = Rush()
    tasks = booking_rush.start(http, _urls(rig), patients, slots, rush, STAGGER_SECONDS)
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
    assert await booking_rush.settled(fault_store) == []
    await booking_rush.assert_acknowledged_kept(fault_store, rush)
    await _assert_each_meant_booking_once(fault_store, patients, retry)


async def test_killing_the_store_mid_rush_loses_and_doubles_nothing(
    http: httpx.AsyncClient, rig: Rig, fault_store: Store
) -> None:
    api, slots, patients = await booking_rush.setup(http, rig.servers[0].url, SLOTS, PATIENTS)
    rush = Rush()
    tasks = booking_rush.start(http, _urls(rig), patients, slots, rush, STAGGER_SECONDS)
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
    assert rush.codes - {"SERVICE_UNAVAILABLE", "SLOT_LOCKED", "SLOT_ALREADY_BOOKED"} == set()

    rig.restart_store()
    assert await _answering(api.gql, api.admin)
    # Clients that got no acknowledgement retry with the same key; the acknowledged ones too.
    retry = await _retry_all(http, rig, patients, slots, rush)
    assert "INTERNAL_SERVER_ERROR" not in retry.codes, retry.codes

    assert await booking_rush.settled(fault_store) == []
    await booking_rush.assert_acknowledged_kept(fault_store, rush)
    await booking_rush.assert_acknowledged_kept(fault_store, retry)

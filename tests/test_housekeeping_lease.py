"""One API process at a time does the housekeeping, through a lease in the store; another
stands by and takes over when the holder stops (at once) or dies (when its lease runs out).

The processes get a database of their own, so the session's servers (other settings,
another lease) never share this lease.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests import booking_rush
from tests.booking_rush import Rush
from tests.graphql_client import Api, GraphQL
from tests.metrics_scrape import scrape, total
from tests.servers import ApiServer

Store = AsyncDatabase[dict[str, Any]]
# Long enough that a renewal queued behind other tests' work on two busy cores does not hand
# the lease over mid-test (each test asserts who holds it); a dead holder's wait is this long.
LEASE_SECONDS = 8
ENV = {
    "SLOT_LOCK_TTL_SECONDS": "2",
    "LOCK_SWEEP_INTERVAL_SECONDS": "0.3",
    "HOUSEKEEPING_LEASE_SECONDS": str(LEASE_SECONDS),
}
RUSH = 16
LEASE_ID = "housekeeping:lock-ttl=2s:sweep=0.3s:horizon=60d"
WAIT_S = 60  # an upper bound for polling, never a threshold
EXPIRIES = "aayulink_slot_lock_expiries_total"


class Rig:
    """API processes with the same settings on one database; more start on demand."""

    def __init__(self, store_uri: str, log_dir: Path) -> None:
        self.store_uri = store_uri
        self.log_dir = log_dir
        self.db_name = f"aayulink_lease_{uuid.uuid4().hex[:8]}"
        self.servers: list[ApiServer] = []

    def start(self) -> ApiServer:
        server = ApiServer(self.store_uri, self.db_name, env=dict(ENV)).start(self.log_dir)
        self.servers.append(server)
        return server

    def by_pid(self, pid: int) -> ApiServer:
        return next(s for s in self.servers if s.process is not None and s.process.pid == pid)


@pytest.fixture(scope="module")
def rig(store_uri: str, log_dir: Path) -> Iterator[Rig]:
    made = Rig(store_uri, log_dir)
    try:
        made.start()
        made.start()
        yield made
    finally:
        for server in made.servers:
            server.stop()


@pytest_asyncio.fixture(scope="module")
async def lease_store(store_uri: str, rig: Rig) -> AsyncIterator[Store]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri, tz_aware=True)
    yield client[rig.db_name]
    await client.close()


def holder_pid(lease: dict[str, Any]) -> int:
    """The holder names its host, its pid and a token of its own."""
    return int(lease["holder"].split(":")[-2])


async def _lease(store: Store) -> dict[str, Any] | None:
    return await store.leases.find_one({"_id": LEASE_ID})


async def _held_by_one_of(store: Store, rig: Rig, alive: list[ApiServer]) -> dict[str, Any]:
    pids = {s.process.pid for s in alive if s.process is not None}
    for _ in range(int(WAIT_S / 0.1)):
        lease = await _lease(store)
        if lease is not None and holder_pid(lease) in pids:
            return lease
        await asyncio.sleep(0.1)
    raise AssertionError(f"none of {pids} took the lease: {await _lease(store)}")


async def _lock_and_wait_for_expiry(
    http: httpx.AsyncClient, server: ApiServer, store: Store
) -> None:
    gql = GraphQL(http, server.url)
    api = Api(gql, await Api.login_admin(gql))
    slot = await api.slot(await api.clinic())
    assert (await api.lock(slot["id"], await api.patient())).data["lockSlot"]
    for _ in range(int(WAIT_S / 0.2)):
        doc = await store.slots.find_one({"_id": ObjectId(slot["id"])}, {"booking_lock": 1})
        assert doc is not None
        if doc["booking_lock"].get("is_active") is None:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the lock on {slot['id']} was never released: {doc}")


def _expiries(server: ApiServer) -> float:
    return total(scrape(f"http://127.0.0.1:{server.port}"), EXPIRIES)


async def test_one_process_holds_the_lease_and_does_the_sweeping(
    rig: Rig, lease_store: Store, http: httpx.AsyncClient
) -> None:
    first = await _held_by_one_of(lease_store, rig, rig.servers)
    holder = rig.by_pid(holder_pid(first))
    standby = next(s for s in rig.servers if s is not holder)
    # Over several sweeps the same process keeps renewing it; no second lease appears.
    seen = [first]
    for _ in range(10):
        await asyncio.sleep(0.3)
        lease = await _lease(lease_store)
        assert lease is not None
        seen.append(lease)
    assert {lease["holder"] for lease in seen} == {first["holder"]}
    assert seen[-1]["until"] > first["until"]
    # The notification sender holds a lease of its own in the same collection.
    assert await lease_store.leases.count_documents({"_id": {"$regex": "^housekeeping:"}}) == 1

    # A lock taken through the standby expires, released by the holder alone.
    await _lock_and_wait_for_expiry(http, standby, lease_store)
    assert _expiries(holder) >= 1
    assert _expiries(standby) == 0


async def test_a_stopped_holder_hands_over_at_once_and_a_dead_one_when_its_lease_runs_out(
    rig: Rig, lease_store: Store, http: httpx.AsyncClient
) -> None:
    alive = [s for s in rig.servers if s.process is not None and s.process.poll() is None]
    holder = rig.by_pid(holder_pid(await _held_by_one_of(lease_store, rig, alive)))
    assert holder.process is not None
    await asyncio.to_thread(holder.stop)
    # A clean stop lets go of the lease on the way out.
    left = await _lease(lease_store)
    assert left is None or holder_pid(left) != holder.process.pid
    survivor = next(s for s in alive if s is not holder)
    await _held_by_one_of(lease_store, rig, [survivor])

    newcomer = await asyncio.to_thread(rig.start)
    assert survivor.process is not None
    survivor.process.kill()  # no clean stop: its lease stays until it runs out
    survivor.process.wait()
    dying = await _lease(lease_store)
    assert dying is not None
    taken = await _held_by_one_of(lease_store, rig, [newcomer])
    if holder_pid(dying) == survivor.process.pid:
        # Read after the takeover: the newcomer waited for the dead holder's lease to end.
        assert datetime.now(UTC) >= dying["until"]
        assert taken["until"] > dying["until"]

    await _lock_and_wait_for_expiry(http, newcomer, lease_store)
    assert _expiries(newcomer) >= 1


def _holders(servers: list[ApiServer]) -> tuple[set[str], float]:
    """Who /metrics says holds the lease, and the hand-overs so far, over every process."""
    held: set[str] = set()
    handovers = 0.0
    for server in servers:
        samples = scrape(f"http://127.0.0.1:{server.port}")
        held |= {
            s.labels["holder"]
            for s in samples
            if s.name == "aayulink_housekeeping_lease_held" and s.value == 1
        }
        handovers += total(samples, "aayulink_housekeeping_handovers_total")
    return held, handovers


async def test_the_lease_stays_with_one_process_through_a_booking_rush(
    store_uri: str, log_dir: Path, http: httpx.AsyncClient
) -> None:
    env = {
        **ENV,
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT_LOCK": "100000/minute",
        "RATE_LIMIT_BOOKING": "100000/minute",
    }
    db_name = f"aayulink_lease_{uuid.uuid4().hex[:8]}"
    servers = [
        ApiServer(store_uri, db_name, env=dict(env), log_level="info").start(log_dir)
        for _ in range(2)
    ]
    try:
        for _ in range(int(WAIT_S / 0.1)):
            holders, handovers = _holders(servers)
            if holders:
                break
            await asyncio.sleep(0.1)
        assert len(holders) == 1, holders
        (holder,) = holders
        pid = int(holder.split(":")[-2])
        logs = "".join(s.log_path.read_text() for s in servers if s.log_path is not None)
        assert f"process {pid} now does the housekeeping" in logs, logs

        _, slots, patients = await booking_rush.setup(http, servers[0].url, RUSH, RUSH)
        rush = Rush()
        started = time.monotonic()
        await asyncio.gather(
            *booking_rush.start(http, [s.url for s in servers], patients, slots, rush, 0)
        )
        assert len(rush.acknowledged) == RUSH, rush.errors
        # Two leases' time at least, the rush included: long enough for a lapse to show.
        await asyncio.sleep(max(0.0, 2 * LEASE_SECONDS - (time.monotonic() - started)))
        assert _holders(servers) == ({holder}, handovers)
    finally:
        for server in servers:
            server.stop()

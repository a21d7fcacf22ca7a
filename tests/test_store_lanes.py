"""Work a process does on its own (the sender, reminders, lease renewals) has a lane of its
own to the store (app/store/lanes.py), and the embedded store bounds each client's pool.

Runs the domain in this process against the session's store: a lease renewal asked for
behind 200 queued request reads is answered while most of them still wait; the same
renewal in the requests' lane waits its turn behind them (which is how a B10 rush held the
sender for 20 s and took the housekeeping lease from its holder).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from pymongo.asynchronous.collection import AsyncCollection

from app.domain.housekeeping.lease import HousekeepingLease
from app.models import Lease
from app.store import lanes
from app.store.connection import connect_store, disconnect_store
from app.store.embedded import CONNECTIONS_PER_CLIENT

QUEUED_READS = 200


@pytest_asyncio.fixture
async def connected(store_uri: str, db_name: str) -> AsyncIterator[None]:
    await connect_store(store_uri, db_name)
    await _reads().insert_many([{"text": "x" * 200} for _ in range(50)])
    yield
    await _reads().drop()
    await disconnect_store()


def _reads() -> AsyncCollection[dict[str, Any]]:
    """A collection of the requests' lane."""
    return Lease.get_pymongo_collection().database["lane_reads"]


async def _renewal_behind_queued_reads(lease: HousekeepingLease) -> int:
    """How many of the queued reads had been answered when the renewal was."""
    answered = 0

    async def read() -> None:
        nonlocal answered
        await _reads().find({}).to_list(None)
        answered += 1

    reads = [asyncio.create_task(read()) for _ in range(QUEUED_READS)]
    await asyncio.sleep(0)  # each read has asked its pool for a connection
    assert await lease.renew()
    at_renewal = answered
    await asyncio.gather(*reads)
    return at_renewal


def test_the_embedded_store_bounds_each_clients_pool(store_uri: str) -> None:
    assert f"maxPoolSize={CONNECTIONS_PER_CLIENT}" in store_uri


async def test_background_work_does_not_wait_behind_requests(connected: None) -> None:
    with lanes.background():
        assert lanes.collection(Lease).database.client is not _reads().database.client
        in_its_lane = await _renewal_behind_queued_reads(HousekeepingLease("lanes-a", 30))
    in_the_requests_lane = await _renewal_behind_queued_reads(HousekeepingLease("lanes-b", 30))
    assert in_its_lane < QUEUED_READS // 2
    assert in_the_requests_lane > QUEUED_READS // 2

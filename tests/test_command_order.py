"""Store commands oldest request first (app/store/command_order.py): the gate's order, through
a real PyMongo client on the suite's store, and a rush through the endpoint with one place."""

from __future__ import annotations

import asyncio
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous import pool as pymongo_pool

from app.core.request_id import request_started
from app.domain.booking.bookings import BOOKING_HEAD_START_SECONDS
from app.store import command_order
from app.store.command_order import OldestFirst
from tests import booking_rush
from tests.graphql_client import BOOK, LOCK, GraphQL, Person
from tests.metrics_scrape import scrape, total
from tests.separate_server import separate_server
from tests.serve_process import cli_env, run_cli
from tests.servers import ApiServer


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_free_place_goes_to_the_oldest_waiter_not_the_first() -> None:
    gate = OldestFirst(1)
    await gate.acquire(age=100.0)
    served: list[str] = []

    async def wait(name: str, age: float) -> None:
        await gate.acquire(age)
        served.append(name)
        gate.release()

    waits = [
        asyncio.create_task(wait(name, age))
        for name, age in (("late", 30.0), ("first", 10.0), ("middle", 20.0))
    ]
    await _settle()
    assert gate.waiting == 3 and served == []
    gate.release()
    await asyncio.gather(*waits)
    assert served == ["first", "middle", "late"]
    assert gate.free == 1


async def test_a_cancelled_waiter_gives_its_turn_to_the_next() -> None:
    gate = OldestFirst(1)
    await gate.acquire(age=0.0)
    cancelled = asyncio.create_task(gate.acquire(age=1.0))
    later = asyncio.create_task(gate.acquire(age=2.0))
    await _settle()
    cancelled.cancel()
    gate.release()
    await later
    assert cancelled.cancelled()
    gate.release()
    assert gate.free == 1 and gate.waiting == 0


async def test_a_waiter_cancelled_as_it_is_handed_a_place_passes_it_on() -> None:
    gate = OldestFirst(1)
    await gate.acquire(age=0.0)
    handed = asyncio.create_task(gate.acquire(age=1.0))
    next_one = asyncio.create_task(gate.acquire(age=2.0))
    await _settle()
    gate.release()  # handed's future is set; it has not run yet
    handed.cancel()
    await next_one
    assert handed.cancelled()
    gate.release()
    assert gate.free == 1


async def test_a_booking_queues_as_if_it_had_arrived_earlier() -> None:
    """bookAppointment's head start: its commands go before a lock that came in after the
    patient's own lock, not after every lock of the rush."""
    request_started.set(100.0)
    command_order.ahead(BOOKING_HEAD_START_SECONDS)
    assert request_started.get() == 100.0 - BOOKING_HEAD_START_SECONDS
    request_started.set(None)
    command_order.ahead(1.0)  # outside a request: from now
    started = request_started.get()
    assert started is not None and started <= time.monotonic() - 1.0


class _Started(monitoring.CommandListener):
    def __init__(self) -> None:
        self.comments: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        comment = event.command.get("comment")
        if isinstance(comment, str):
            self.comments.append(comment)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_queued_commands_reach_the_store_oldest_request_first(store_uri: str) -> None:
    listener = _Started()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        store_uri, event_listeners=[listener]
    )
    try:
        command_order.order_commands(client, 1)
        collection = client["aayulink_command_order"]["probe"]
        await collection.find_one({}, comment="warm")  # a pooled connection, servers known
        gate = command_order.gate_of(client)
        assert gate is not None
        await gate.acquire(age=0.0)  # the one place is taken: every command below queues

        async def find(name: str, age: float) -> None:
            request_started.set(age)
            await collection.find_one({}, comment=name)

        finds = [
            asyncio.create_task(find(name, age))
            for name, age in (("youngest", 3.0), ("oldest", 1.0), ("middle", 2.0))
        ]
        for _ in range(200):
            if gate.waiting == 3:
                break
            await asyncio.sleep(0.01)
        assert gate.waiting == 3, "each find waits for the place"
        gate.release()
        await asyncio.gather(*finds)
        assert listener.comments == ["warm", "oldest", "middle", "youngest"]
        assert gate.free == 1
    finally:
        command_order.forget(client)
        await client.drop_database("aayulink_command_order")
        await client.close()


async def test_another_client_of_the_same_store_is_not_gated(store_uri: str) -> None:
    """PyMongo clients of the same servers compare equal: the background lane's must not
    take the requests' gate (its lease renewals would wait behind every request)."""
    requests: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri)
    background: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri)
    try:
        assert requests == background
        command_order.order_commands(requests, 1)
        assert command_order.gate_of(requests) is not None
        assert command_order.gate_of(background) is None
    finally:
        command_order.forget(requests)
        await requests.close()
        await background.close()


def test_the_pymongo_internals_the_gate_wraps_are_where_it_expects() -> None:
    """pyproject pins pymongo; a release that moves the pool checkout fails here first."""
    assert version("pymongo").startswith("4.20.")
    assert set(pymongo_pool._PoolCheckout.__slots__) >= {"_conn", "_handler", "_pool"}
    command_order._apply()
    assert pymongo_pool._PoolCheckout.__aenter__ is command_order._enter
    assert pymongo_pool._PoolCheckout.__aexit__ is command_order._exit


async def test_a_rush_through_one_place_books_every_patient(
    http: httpx.AsyncClient, store_uri: str, log_dir: Path
) -> None:
    """Every command of a server queues for a single place: locks and bookings, the sweeps
    and the sender among them. Nothing waits on itself; every patient books."""
    env = {"STORE_COMMANDS_IN_FLIGHT": "1"}
    async with separate_server(http, store_uri, log_dir, "one_place", env) as one:
        _, slots, patients = await booking_rush.setup(http, one.server.url, 8, 8)
        gql = GraphQL(http, one.server.url)

        async def lock_then_book(patient: Person, slot: str) -> list[Any]:
            locked = await gql(LOCK, {"slotId": slot}, patient.token)
            booked = await gql(BOOK, {"input": {"slotId": slot}}, patient.token)
            return [locked.body.get("errors"), booked.body.get("errors")]

        errors = await asyncio.gather(
            *(lock_then_book(p, s) for p, s in zip(patients, slots, strict=True))
        )
        assert errors == [[None, None]] * 8
        booked = await one.store.appointments.count_documents({"status": "SCHEDULED"})
        assert booked == 8
        samples = scrape(f"http://127.0.0.1:{one.server.port}")
        assert total(samples, "aayulink_store_command_places") == 1
        assert "aayulink_store_commands_waiting" in {s.name for s in samples}


def test_on_the_embedded_store_two_commands_go_at_once_by_default(server_a: ApiServer) -> None:
    """The suite's servers reach the embedded store through MONGODB_URI, as `serve`'s workers
    do, and set no STORE_COMMANDS_IN_FLIGHT: the store names itself, and the default holds."""
    samples = scrape(f"http://127.0.0.1:{server_a.port}")
    assert total(samples, "aayulink_store_command_places") == 2


async def test_no_limit_leaves_the_commands_ungated(
    http: httpx.AsyncClient, store_uri: str, log_dir: Path
) -> None:
    env = {"STORE_COMMANDS_IN_FLIGHT": "0"}
    async with separate_server(http, store_uri, log_dir, "no_limit", env) as free:
        assert (await free.api.clinic()).doctor_id
        samples = scrape(f"http://127.0.0.1:{free.server.port}")
        assert total(samples, "aayulink_store_command_places") == 0, "0: not limited"
        assert total(samples, "aayulink_store_commands_waiting") == 0


@pytest.mark.parametrize("value", ["-1", "1001", "a-few-at-a-time"])
def test_a_bad_number_of_commands_in_flight_is_refused(tmp_path: Path, value: str) -> None:
    refused = run_cli("serve", env=cli_env(tmp_path / "data", STORE_COMMANDS_IN_FLIGHT=value))
    assert refused.returncode != 0
    assert "invalid settings: STORE_COMMANDS_IN_FLIGHT" in refused.stderr
    assert not (tmp_path / "data").exists()

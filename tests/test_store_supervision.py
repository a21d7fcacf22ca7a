"""`python -m app serve` looks after what it starts: kill -9 its store mid-rush and it comes
back by itself while clients get SERVICE_UNAVAILABLE; a store that cannot come back, or a
worker that cannot start, ends serve non-zero; kill -9 serve and nothing is left behind.

Each case runs its own `serve` on its own data directory, with a small booking rush, and
checks in the store after that no acknowledged booking was lost and no slot is doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from pymongo import AsyncMongoClient

from app.store.supervisor import STORE_LOST_EXIT_CODE
from app.web.server import STARTUP_FAILURE
from tests import booking_rush
from tests.booking_rush import Rush
from tests.graphql_client import GraphQL
from tests.serve_process import Serve, children, command_line, running
from tests.servers import free_port

WAIT_S = 60  # liveness bounds for the test, never performance targets
PATIENTS = 16
SLOTS = 8
STAGGER_SECONDS = 0.05
RUSH_ENV = {
    "SLOT_LOCK_TTL_SECONDS": "3",
    "LOCK_SWEEP_INTERVAL_SECONDS": "0.3",
    "STORE_TIMEOUT_SECONDS": "1",
    "RATE_LIMIT_LOCK": "100000/minute",
    "RATE_LIMIT_BOOKING": "100000/minute",
    "RATE_LIMIT_LOGIN_ACCOUNT": "100000/minute",
    "RATE_LIMIT_LOGIN_ADDRESS": "100000/minute",
    "RATE_LIMIT_REGISTER_ADDRESS": "100000/minute",
}
RETRYABLE = {"SERVICE_UNAVAILABLE", "SLOT_LOCKED", "SLOT_ALREADY_BOOKED"}


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A client of its own: a serve here may die with connections in the pool."""
    async with httpx.AsyncClient(timeout=WAIT_S) as client:
        yield client


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _store_pid(server: Serve) -> int:
    assert server.process is not None
    stores = [p for p in children(server.process.pid) if "embedded-store" in command_line(p)]
    assert len(stores) == 1, stores
    return stores[0]


def _store_uri(server: Serve) -> str:
    """The store serve last started, as its log names it."""
    found = re.findall(r"embedded store .* at (mongodb://\S+)", server.logs())
    assert found, server.logs()
    return str(found[-1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def _answering(gql: GraphQL) -> bool:
    for _ in range(WAIT_S * 2):
        with contextlib.suppress(httpx.TransportError):
            if not (await gql("{ specialties { id } }")).body.get("errors"):
                return True
        await asyncio.sleep(0.5)
    return False


async def _check_store(uri: str, *rushes: Rush) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        store = client["aayulink"]
        assert await booking_rush.settled(store) == []
        for rush in rushes:
            await booking_rush.assert_acknowledged_kept(store, rush)
    finally:
        await client.close()


def _assert_unavailable_is_retryable(rush: Rush) -> None:
    assert rush.codes <= RETRYABLE, rush.errors
    for error in rush.errors:
        if error["extensions"]["code"] == "SERVICE_UNAVAILABLE":
            assert error["extensions"]["retryAfter"] >= 1, error
            assert error["extensions"]["requestId"], error


async def test_a_killed_store_comes_back_by_itself_mid_rush(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    # The first restart waits longer than a request waits for the store, so a request made
    # right after the kill meets the store down, whatever the machine's speed.
    env = {**RUSH_ENV, "STORE_RESTART_BACKOFF_SECONDS": "5"}
    server = Serve(tmp_path / "data", tmp_path / "serve.log", env=env, workers=2).start()
    try:
        api, slots, patients = await booking_rush.setup(http, server.url, SLOTS, PATIENTS)
        assert server.process is not None
        store_before = _store_pid(server)
        workers = set(children(server.process.pid)) - {store_before}
        rush = Rush()
        tasks = booking_rush.start(http, [server.url], patients, slots, rush, STAGGER_SECONDS)
        await rush.first_ack.wait()
        in_flight = sum(not task.done() for task in tasks)
        os.kill(store_before, signal.SIGKILL)

        down = await api.book(slots[0], patients[0], idempotencyKey=rush.keys[patients[0].id])
        assert down.code == "SERVICE_UNAVAILABLE", down.body
        assert down.error["extensions"]["retryAfter"] == 2  # STORE_RETRY_AFTER_SECONDS
        await asyncio.gather(*tasks)
        assert in_flight > 0, "the rush was over before the kill"
        assert rush.unanswered == 0
        _assert_unavailable_is_retryable(rush)

        assert await _answering(api.gql), server.logs()
        assert server.process.poll() is None
        assert _store_pid(server) != store_before
        # The same workers: they reconnected to the store on its old port by themselves.
        assert set(children(server.process.pid)) - {_store_pid(server)} == workers
        assert "embedded store restarted (attempt 1/5)" in server.logs()

        retry = Rush(keys=dict(rush.keys))
        await asyncio.gather(
            *(
                booking_rush.book(http, server.url, patient, slots[i % SLOTS], retry, 0)
                for i, patient in enumerate(patients)
            )
        )
        assert retry.unanswered == 0
        _assert_unavailable_is_retryable(retry)
        for appointment_id, booked in rush.acknowledged.items():
            assert retry.acknowledged.get(appointment_id) == booked
        await _check_store(_store_uri(server), rush, retry)
    finally:
        server.stop()


async def test_a_store_that_cannot_come_back_stops_serve(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = {**RUSH_ENV, "STORE_RESTART_ATTEMPTS": "2", "STORE_RESTART_BACKOFF_SECONDS": "0.2"}
    server = Serve(data_dir, tmp_path / "serve.log", env=env, workers=2).start()
    try:
        assert server.process is not None
        descendants = children(server.process.pid)
        # A file where the data directory was: every restart fails before it serves.
        data_dir.rename(tmp_path / "moved-away")
        data_dir.write_text("not a directory")
        os.kill(_store_pid(server), signal.SIGKILL)

        assert server.process.wait(timeout=WAIT_S) == STORE_LOST_EXIT_CODE, server.logs()
        assert "embedded store restart 2/2 failed" in server.logs()
        assert "could not be restarted after 2 attempts" in server.logs()
        _wait_for(lambda: not any(running(pid) for pid in descendants), "serve's children end")
        assert not _listening(server.port)
    finally:
        server.stop()


async def test_a_worker_that_cannot_start_stops_serve(tmp_path: Path) -> None:
    nowhere = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    env = {"MONGODB_URI": nowhere, "STORE_TIMEOUT_SECONDS": "0.5"}
    server = Serve(tmp_path / "data", tmp_path / "serve.log", env=env, workers=2).launch()
    try:
        assert server.process is not None
        assert server.process.wait(timeout=WAIT_S) == STARTUP_FAILURE, server.logs()
        assert "failed to start" in server.logs()
        assert not _listening(server.port)
    finally:
        server.stop()


async def test_killing_serve_leaves_nothing_behind_and_it_starts_again(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = Serve(data_dir, tmp_path / "serve.log", env=RUSH_ENV, workers=2).start()
    try:
        _, slots, patients = await booking_rush.setup(http, server.url, SLOTS, PATIENTS)
        assert server.process is not None
        descendants = children(server.process.pid)
        workers = [pid for pid in descendants if "spawn_main" in command_line(pid)]
        assert len(workers) == 2, [command_line(pid) for pid in descendants]
        assert _store_pid(server) in descendants
        rush = Rush()
        tasks = booking_rush.start(http, [server.url], patients, slots, rush, STAGGER_SECONDS)
        await rush.first_ack.wait()
        server.process.kill()
        await asyncio.gather(*tasks)
        server.process.wait()

        # Workers and store notice their parent is gone and stop; the port is free again.
        _wait_for(lambda: not any(running(pid) for pid in descendants), "serve's children end")
        assert not _listening(server.port)
        _assert_unavailable_is_retryable(rush)
    finally:
        server.stop()

    again = Serve(data_dir, tmp_path / "again.log", env=RUSH_ENV, port=server.port).start()
    try:
        assert await _answering(GraphQL(http, again.url))
        await _check_store(_store_uri(again), rush)
    finally:
        again.stop()

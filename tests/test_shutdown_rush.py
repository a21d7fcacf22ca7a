"""SIGTERM to `python -m app serve` in the middle of a booking rush: every booking request
that reached the server gets its answer, and the store holds exactly what was answered."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from app.models import ACTIVE_STATUSES
from app.store.embedded import EmbeddedStoreProcess
from tests.booking_rush import clock
from tests.graphql_client import BOOK, LOGIN, Api, GraphQL, Person
from tests.metrics_scrape import scrape, total
from tests.serve_process import Serve
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD

PATIENTS = 30
SLOTS = 15
GRACE_SECONDS = 20
SIGN_INS = 200
WAIT_S = 30  # a liveness bound for the test, not a performance target
RUSH_ENV = {
    "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
    "RATE_LIMIT_REGISTER_ADDRESS": "100000/minute",
    "RATE_LIMIT_LOGIN_ADDRESS": "100000/minute",
    "RATE_LIMIT_BOOKING": "100000/minute",
}


@dataclass
class Outcomes:
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)  # patient -> body
    never_reached: int = 0  # refused before a connection: sent after the listener closed
    dropped: list[str] = field(default_factory=list)  # connected, then no answer


async def _book(url: str, patient: Person, slot_id: str, outcomes: Outcomes) -> None:
    # A connection of its own: a pooled idle connection closed by the shutdown would fail
    # a request that never reached the server, and blur what is measured.
    async with httpx.AsyncClient(timeout=WAIT_S) as client:
        variables = {"input": {"slotId": slot_id, "idempotencyKey": str(uuid.uuid4())}}
        try:
            reply = await client.post(
                url,
                json={"query": BOOK, "variables": variables},
                headers={"Authorization": f"Bearer {patient.token}"},
            )
        except httpx.ConnectError:
            outcomes.never_reached += 1
            return
        except httpx.TransportError as exc:
            outcomes.dropped.append(type(exc).__name__)
            return
    assert reply.status_code == 200, reply.text
    outcomes.answered[patient.id] = reply.json()


async def test_sigterm_mid_rush_answers_every_request_that_reached_the_server(
    tmp_path: Path,
) -> None:
    server = Serve(tmp_path / "data", tmp_path / "serve.log", env=RUSH_ENV).start()
    try:
        async with httpx.AsyncClient(timeout=WAIT_S) as http:
            gql = GraphQL(http, server.url)
            api = Api(gql, await Api.login_admin(gql))
            clinic = await api.clinic()
            slots = [
                (await api.slot(clinic, clock(480 + 30 * i), clock(510 + 30 * i)))["id"]
                for i in range(SLOTS)
            ]
            patients = [await api.patient(f"Rush {i}") for i in range(PATIENTS)]

        outcomes = Outcomes()
        tasks = [
            asyncio.create_task(_book(server.url, p, slots[i % SLOTS], outcomes))
            for i, p in enumerate(patients)
        ]
        await asyncio.to_thread(_until_a_booking_is_in_flight, server)
        server.terminate()
        await asyncio.gather(*tasks)
        assert server.process is not None
        assert server.process.wait(timeout=GRACE_SECONDS + WAIT_S) == 0, server.logs()
    finally:
        server.stop()

    assert outcomes.dropped == [], outcomes.dropped
    assert outcomes.answered, "the signal came before any request was answered"
    assert len(outcomes.answered) + outcomes.never_reached == PATIENTS
    codes = {
        body["errors"][0]["extensions"]["code"]
        for body in outcomes.answered.values()
        if body.get("errors")
    }
    assert codes <= {"SLOT_ALREADY_BOOKED", "SLOT_LOCKED"}, codes

    # What the store holds is exactly what was answered: read with the server stopped.
    store = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store.start(), tz_aware=True)
    try:
        database = client["aayulink"]
        active = (
            await database["appointments"]
            .find({"status": {"$in": ACTIVE_STATUSES}}, {"patient_id": 1, "slot_id": 1})
            .to_list(None)
        )
        booked = await database["slots"].find({"is_booked": True}, {"_id": 1}).to_list(None)
    finally:
        await client.close()
        store.stop()
    answered = {
        (patient_id, body["data"]["bookAppointment"]["slot"]["id"])
        for patient_id, body in outcomes.answered.items()
        if not body.get("errors")
    }
    stored = {(str(a["patient_id"]), str(a["slot_id"])) for a in active}
    assert stored == answered, "the store holds exactly the bookings that were answered"
    assert len({slot for _, slot in stored}) == len(stored), "a slot booked twice"
    assert {str(s["_id"]) for s in booked} == {slot for _, slot in stored}


def _until_a_booking_is_in_flight(server: Serve) -> None:
    deadline = time.monotonic() + WAIT_S
    while total(scrape(server.base), "aayulink_graphql_requests_in_flight") < 1:
        assert time.monotonic() < deadline, "no request was ever in flight"
        time.sleep(0.005)


async def test_requests_the_grace_cannot_finish_are_answered_service_unavailable_in_json(
    tmp_path: Path,
) -> None:
    # One password check at a time: a queue of sign-ins outlasts any grace. The grace asked
    # for (1 s) is raised to cover a patient's lease wait and a store command (8 s here).
    env = {
        **RUSH_ENV,
        "SHUTDOWN_GRACE_SECONDS": "1",
        "STORE_TIMEOUT_SECONDS": "1",
        "PASSWORD_HASH_CONCURRENCY": "1",
        "RATE_LIMIT_LOGIN_ACCOUNT": "100000/minute",
    }
    server = Serve(tmp_path / "data", tmp_path / "serve.log", env=env).start()
    try:
        limits = httpx.Limits(max_connections=SIGN_INS, max_keepalive_connections=SIGN_INS)
        async with httpx.AsyncClient(timeout=WAIT_S, limits=limits) as http:
            variables = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            sign_ins = [
                asyncio.create_task(
                    http.post(server.url, json={"query": LOGIN, "variables": variables})
                )
                for _ in range(SIGN_INS)
            ]
            await asyncio.to_thread(_until_in_flight, server, SIGN_INS // 2)
            server.terminate()
            replies = await asyncio.gather(*sign_ins)
        assert server.process is not None
        assert server.process.wait(timeout=WAIT_S) == 0, server.logs()
    finally:
        server.stop()

    for reply in replies:
        assert reply.headers["content-type"] == "application/json", reply.text
        if reply.status_code == 200:
            assert reply.json()["data"]["login"]["accessToken"], reply.text
            continue
        assert reply.status_code == 503, reply.text
        assert reply.headers["connection"] == "close", reply.headers
        assert reply.headers["retry-after"] == "2", reply.headers
        error = reply.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", error
        assert error["extensions"]["retryAfter"] == 2, error
        assert error["extensions"]["requestId"] == reply.headers["x-request-id"], error
    assert any(reply.status_code == 503 for reply in replies), "the grace saw every sign-in"
    assert "shutdown grace 8 s, not SHUTDOWN_GRACE_SECONDS=1" in server.logs()


def _until_in_flight(server: Serve, count: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while total(scrape(server.base), "aayulink_graphql_requests_in_flight") < count:
        assert time.monotonic() < deadline, "the requests were never in flight together"
        time.sleep(0.01)

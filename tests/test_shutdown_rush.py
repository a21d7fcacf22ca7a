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
from tests.graphql_client import BOOK, Api, GraphQL, Person
from tests.metrics_scrape import scrape, total
from tests.serve_process import Serve

PATIENTS = 30
SLOTS = 15
GRACE_SECONDS = 20
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

"""A full disk under `serve`'s embedded store (a small tmpfs, filled up): writes answer
SERVICE_UNAVAILABLE with retryAfter, reads keep working, /readyz says degraded, the log says
so once, and writes work again by themselves once space is freed."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient

from tests import booking_rush
from tests.booking_rush import Rush
from tests.graphql_client import (
    CREATE_SPECIALTY,
    LOGIN,
    Api,
    GraphQL,
    Person,
    Response,
    unique,
)
from tests.serve_process import Serve
from tests.test_store_supervision import (
    PATIENTS,
    RETRYABLE,
    RUSH_ENV,
    SLOTS,
    _assert_unavailable_is_retryable,
    _check_store,
    _store_uri,
)

DISK_SIZE = "24m"
WAIT_S = 60  # a liveness bound, not a performance target
READ_TRIES = 3


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the disk has no room left; deleting it gives the room back."""
    ballast = disk / "ballast"
    chunk = b"\0" * 65536
    with ballast.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    for size in (4096, 512, 1):  # the last partial blocks too
        with contextlib.suppress(OSError), ballast.open("ab", buffering=0) as out:
            while True:
                out.write(b"\0" * size)
    return ballast


async def _read(gql: GraphQL, query: str, token: str | None = None) -> Any:
    """A read, retried as a client told SERVICE_UNAVAILABLE would: on a slow machine the store
    can stall long enough in a refused write for PyMongo to drop its connections once."""
    for _ in range(READ_TRIES):
        reply = await gql(query, token=token)
        if not reply.body.get("errors"):
            return reply.body["data"]
        assert reply.code == "SERVICE_UNAVAILABLE", reply.body
        await asyncio.sleep(reply.error["extensions"]["retryAfter"])
    raise AssertionError(f"no answer to {query} after {READ_TRIES} tries: {reply.body}")


async def _create_specialty(api: Api) -> Response:
    return await api.gql(CREATE_SPECIALTY, {"input": {"name": unique("Disk ")}}, api.admin.token)


async def test_a_full_disk_refuses_writes_keeps_reads_and_recovers(
    http: httpx.AsyncClient, small_disk: Path, tmp_path: Path
) -> None:
    # One worker, so /readyz is answered by the process that met the refused writes.
    # The default store timeout: a store busy with the rush on a slow machine must not look
    # unreachable (that is test_store_supervision's case), only full.
    env = {**RUSH_ENV, "STORE_TIMEOUT_SECONDS": "5"}
    server = Serve(small_disk / "data", tmp_path / "serve.log", env=env).start()
    try:
        api, slots, patients = await booking_rush.setup(http, server.url, SLOTS, PATIENTS)
        before = Rush()
        await booking_rush.book(http, server.url, patients[0], slots[0], before, 0)
        assert before.acknowledged, before.errors

        ballast = _fill(small_disk)
        rush = Rush()
        await asyncio.gather(
            *booking_rush.start(http, [server.url], patients[1:], slots[1:], rush, 0.05)
        )
        assert rush.unanswered == 0
        _assert_unavailable_is_retryable(rush)
        refused = await _create_specialty(api)
        assert refused.code == "SERVICE_UNAVAILABLE", refused.body
        assert refused.error["extensions"]["retryAfter"] == 2

        # Reads keep working, the appointment booked before the disk filled included.
        specialties = await _read(api.gql, "{ specialties { id } }")
        assert specialties["specialties"]
        mine = await _read(api.gql, "{ myAppointments { id } }", patients[0].token)
        assert [a["id"] for a in mine["myAppointments"]] == list(before.acknowledged)

        ready = await http.get(f"{server.base}/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded", ready.json()
        store_check = ready.json()["checks"]["store"]
        assert store_check.startswith("answers, refusing writes ("), store_check
        assert server.logs().count("store refuses writes") == 1, server.logs()

        ballast.unlink()
        deadline = time.monotonic() + WAIT_S
        retry = Rush(keys=dict(rush.keys))
        await asyncio.gather(
            *(
                booking_rush.book(http, server.url, patient, slots[1:][i % (SLOTS - 1)], retry, 0)
                for i, patient in enumerate(patients[1:])
            )
        )
        # A booking the full disk cut short may have left its patient's lease unreleased
        # (app/store/guards.py): the retry waits it out, it is never refused for it.
        assert retry.codes <= RETRYABLE - {"SERVICE_UNAVAILABLE"}, retry.errors
        assert retry.acknowledged
        # A write succeeds again, and once none has been refused for a while, /readyz is ready.
        created = await _create_specialty(api)
        assert created.data["createSpecialty"]["id"]
        while (await http.get(f"{server.base}/readyz")).json()["status"] != "ready":
            assert time.monotonic() < deadline, server.logs()
            await _create_specialty(api)
            await asyncio.sleep(0.5)
        assert "store accepts writes again" in server.logs()
        assert (await http.get(f"{server.base}/readyz")).json() == {
            "status": "ready",
            "checks": {"store": "ok"},
        }

        await _check_store(_store_uri(server), before, rush, retry)
    finally:
        server.stop()


async def _book_until_answered(api: Api, slot_id: str, patient: Person, key: str) -> Response:
    """A client told SERVICE_UNAVAILABLE waits retryAfter and sends the same booking again."""
    deadline = time.monotonic() + WAIT_S
    while True:
        reply = await api.book(slot_id, patient, idempotencyKey=key)
        if reply.body.get("errors") is None or reply.code != "SERVICE_UNAVAILABLE":
            return reply
        assert time.monotonic() < deadline, reply.body
        await asyncio.sleep(reply.error["extensions"]["retryAfter"])


async def test_a_booking_the_full_disk_cut_short_is_finished_by_its_retry(
    http: httpx.AsyncClient, small_disk: Path, tmp_path: Path
) -> None:
    # Each patient holds a slot of their own, so no refusal here can be another's doing; a
    # long lock TTL keeps the reconciler (its grace is the TTL) from repairing what the
    # booking path must repair itself.
    env = {**RUSH_ENV, "STORE_TIMEOUT_SECONDS": "5", "SLOT_LOCK_TTL_SECONDS": "300"}
    server = Serve(small_disk / "data", tmp_path / "serve.log", env=env).start()
    try:
        api, slots, patients = await booking_rush.setup(http, server.url, SLOTS, SLOTS)
        for slot_id, patient in zip(slots, patients, strict=True):
            assert (await api.lock(slot_id, patient)).data["lockSlot"]
        keys = {patient.id: str(uuid.uuid4()) for patient in patients}

        ballast = _fill(small_disk)
        first = await asyncio.gather(
            *(
                api.book(slot_id, patient, idempotencyKey=keys[patient.id])
                for slot_id, patient in zip(slots, patients, strict=True)
            )
        )
        for reply in first:
            if reply.body.get("errors"):
                assert reply.code == "SERVICE_UNAVAILABLE", reply.body
                assert reply.error["extensions"]["retryAfter"] >= 1, reply.body
        assert any(reply.body.get("errors") for reply in first), "the full disk refused nothing"

        ballast.unlink()
        retried = await asyncio.gather(
            *(
                _book_until_answered(api, slot_id, patient, keys[patient.id])
                for slot_id, patient in zip(slots, patients, strict=True)
            )
        )
        for slot_id, reply in zip(slots, retried, strict=True):
            assert reply.data["bookAppointment"]["slot"]["id"] == slot_id, reply.body
        for before, after in zip(first, retried, strict=True):
            if not before.body.get("errors"):
                assert after.data == before.data  # the first attempt's appointment
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            _store_uri(server), tz_aware=True
        )
        try:
            assert await booking_rush.problems(client["aayulink"]) == []
        finally:
            await client.close()
    finally:
        server.stop()


REFRESH = """mutation($token: String!) {
  refreshToken(refreshToken: $token) { accessToken refreshToken }
}"""
SESSIONS = 12
PASSWORD = "patient-password"  # what Api.patient registers with


async def test_sign_in_and_refresh_on_a_full_disk(
    http: httpx.AsyncClient, small_disk: Path, tmp_path: Path
) -> None:
    env = {**RUSH_ENV, "STORE_TIMEOUT_SECONDS": "5"}
    server = Serve(small_disk / "data", tmp_path / "serve.log", env=env).start()
    try:
        gql = GraphQL(http, server.url)
        api = Api(gql, await Api.login_admin(gql))
        people = [await api.patient(f"Session {i}") for i in range(SESSIONS)]
        slot = await api.slot(await api.clinic())
        # A lease on the last patient's bookings that its holder could not release (the
        # store refused the write): as app/store/guards.py leaves it, for a minute.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            _store_uri(server), tz_aware=True
        )
        try:
            await client["aayulink"].users.update_one(
                {"_id": ObjectId(people[-1].id)},
                {
                    "$set": {
                        "guard_token": ObjectId(),
                        "guard_until": datetime.now(UTC) + timedelta(minutes=1),
                    }
                },
            )
        finally:
            await client.close()

        ballast = _fill(small_disk)
        # Sign-in writes a refresh token: a session, or SERVICE_UNAVAILABLE when the disk
        # refuses it (a nearly full SQLite store still takes the odd small write).
        signed_in = await gql(LOGIN, {"email": people[0].email, "password": PASSWORD})
        if signed_in.body.get("errors"):
            assert signed_in.code == "SERVICE_UNAVAILABLE", signed_in.body
            assert signed_in.error["extensions"]["retryAfter"] == 2, signed_in.body
        # A live access token keeps reading.
        me = await _read(gql, "{ me { id } }", people[0].token)
        assert me["me"]["id"] == people[0].id
        refreshed = await asyncio.gather(
            *(gql(REFRESH, {"token": p.refresh_token}) for p in people)
        )
        for reply in refreshed:
            if reply.body.get("errors"):
                assert reply.code == "SERVICE_UNAVAILABLE", reply.body

        # The patient waits for the lease; the store refusing writes is why it runs out.
        await _until_a_write_is_refused(api)
        blocked = await api.book(slot["id"], people[-1], idempotencyKey=str(uuid.uuid4()))
        assert blocked.code == "SERVICE_UNAVAILABLE", blocked.body
        assert blocked.error["extensions"]["retryAfter"] == 2, blocked.body
        assert blocked.error["extensions"]["requestId"], blocked.body

        ballast.unlink()
        # A refresh the disk refused is unspent, and works when sent again, unless the disk
        # refused the unspending too: then that session ends (UNAUTHENTICATED, sign in again).
        # Never anything else, and never an error for a session whose refresh went through.
        for person, reply in zip(people, refreshed, strict=True):
            token = (
                person.refresh_token
                if reply.body.get("errors")
                else reply.data["refreshToken"]["refreshToken"]
            )
            again = await _retried(gql, REFRESH, {"token": token})
            if not again.body.get("errors"):
                assert again.data["refreshToken"]["accessToken"]
            else:
                assert reply.body.get("errors"), again.body
                assert again.code == "UNAUTHENTICATED", again.body
        signed_in = await _retried(gql, LOGIN, {"email": people[0].email, "password": PASSWORD})
        assert signed_in.data["login"]["accessToken"]
    finally:
        server.stop()


async def _until_a_write_is_refused(api: Api) -> None:
    """A nearly full store still takes the odd small write; each one it takes fills it more."""
    for _ in range(50):
        created = await _create_specialty(api)
        if created.body.get("errors"):
            assert created.code == "SERVICE_UNAVAILABLE", created.body
            return
    raise AssertionError("the full disk took 50 writes")


async def _retried(gql: GraphQL, query: str, variables: dict[str, Any]) -> Response:
    """Sent again after retryAfter while the store still says SERVICE_UNAVAILABLE."""
    deadline = time.monotonic() + WAIT_S
    while True:
        reply = await gql(query, variables)
        if not reply.body.get("errors") or reply.code != "SERVICE_UNAVAILABLE":
            return reply
        assert time.monotonic() < deadline, reply.body
        await asyncio.sleep(reply.error["extensions"]["retryAfter"])

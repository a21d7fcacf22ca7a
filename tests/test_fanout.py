"""Events across API processes: Redis fan-out, Redis outages, lock expiry, slow subscribers.

Every subscriber here is a real client (gql's WebSocket transport, graphql-transport-ws)
connected to a real uvicorn process; the changes go in over HTTP, mostly through another
process. The last test stalls a raw `websockets` client to check the bounded queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId
from gql import Client
from gql.graphql_request import GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from pymongo.asynchronous.database import AsyncDatabase
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from tests.graphql_client import (
    CREATE_DOCTOR,
    CREATE_SPECIALTY,
    Api,
    Clinic,
    GraphQL,
    Person,
    future_day,
    unique,
)
from tests.servers import ApiServer, RedisProcess, server_pair

Store = AsyncDatabase[dict[str, Any]]

# A generous bound for one event to cross processes; the measured latency goes in the message.
DELIVERY_BOUND_SECONDS = 5.0
# How long one priming attempt waits for its event before trying again.
PRIME_WAIT_SECONDS = 1.5

SLOT_UPDATES = """subscription($doctorId: ID) {
  slotUpdates(doctorId: $doctorId) {
    kind at slot { id state isBooked isAvailable lock { expiresAt } }
  }
}"""
APPOINTMENT_UPDATES = """subscription {
  appointmentUpdates {
    kind at appointment { id status patient { id } doctor { id } slot { id } }
  }
}"""

SLOT_QUERY = """query($id: ID!) { slot(id: $id) { id state } }"""

# --- a subscriber on a real client ----------------------------------------------------


@dataclass
class Arrival:
    at: float  # the event loop's clock when the event reached the client
    data: dict[str, Any]


@dataclass(eq=False)
class Listener:
    """One WebSocket connection with one subscription, collecting what arrives."""

    ws_url: str
    query: str
    variables: dict[str, Any]
    token: str | None
    arrivals: list[Arrival] = field(default_factory=list)
    error: BaseException | None = None
    ended: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> Listener:
        self._task = asyncio.create_task(self._run(), name=f"listener {self.ws_url}")
        return self

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        transport = WebsocketsTransport(
            url=self.ws_url,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"Authorization": f"Bearer {self.token}"} if self.token else {},
        )
        request = GraphQLRequest(self.query, variable_values=self.variables)
        try:
            async with Client(transport=transport, fetch_schema_from_transport=False) as session:
                async for result in session.subscribe(request):
                    self.arrivals.append(Arrival(loop.time(), result))
                    self._changed.set()
        except Exception as exc:
            self.error = exc
        finally:
            self.ended = True
            self._changed.set()

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def matching(self, check: Callable[[dict[str, Any]], bool]) -> list[Arrival]:
        return [arrival for arrival in self.arrivals if check(arrival.data)]

    async def wait_for(
        self, check: Callable[[dict[str, Any]], bool], within: float
    ) -> Arrival | None:
        """The first arrival `check` accepts, or None after `within` s; fails if the stream ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            found = self.matching(check)
            if found:
                return found[0]
            assert not self.ended, f"the subscription ended: {self.error!r}"
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


Listen = Callable[[ApiServer, str, dict[str, Any], Person | None], Listener]


@pytest_asyncio.fixture
async def listen() -> AsyncIterator[Listen]:
    """Starts subscribers; every one is closed when the test ends."""
    started: list[Listener] = []

    def start(
        server: ApiServer, query: str, variables: dict[str, Any], who: Person | None
    ) -> Listener:
        listener = Listener(server.ws_url, query, variables, who.token if who else None).start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        await listener.stop()


async def until_live(trigger: Callable[[], Awaitable[object]], *listeners: Listener) -> None:
    """Repeats `trigger` until every listener has received something.

    The protocol does not acknowledge a subscribe message, so this is how a test knows the
    servers have registered the subscriptions before it makes the change it checks.
    """
    for _ in range(20):
        await trigger()
        for listener in listeners:
            await listener.wait_for(lambda _: True, PRIME_WAIT_SECONDS)
        if all(listener.arrivals for listener in listeners):
            return
    raise AssertionError("the subscriptions never became live")


def slot_event(kind: str, slot_id: str) -> Callable[[dict[str, Any]], bool]:
    def check(data: dict[str, Any]) -> bool:
        event = data["slotUpdates"]
        return bool(event["kind"] == kind and event["slot"]["id"] == slot_id)

    return check


def appointment_event(kind: str, appointment_id: str) -> Callable[[dict[str, Any]], bool]:
    def check(data: dict[str, Any]) -> bool:
        event = data["appointmentUpdates"]
        return bool(event["kind"] == kind and event["appointment"]["id"] == appointment_id)

    return check


class SlotTimes:
    """Successive non-overlapping 10-minute slots on one day, for one clinic's doctor."""

    def __init__(self, days_ahead: int = 9) -> None:
        self.day = future_day(days_ahead)
        self.next_minute = 6 * 60

    def __call__(self) -> tuple[str, str]:
        start, self.next_minute = self.next_minute, self.next_minute + 10
        end = self.next_minute
        return f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"


async def new_slot(api: Api, clinic: Clinic, times: SlotTimes) -> dict[str, Any]:
    start, end = times()
    return await api.slot(clinic, start, end, times.day)


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no UTC offset"
    return parsed


# --- a private Redis the tests may stop and start -------------------------------------


EXPIRING_TOGETHER = 20
SHORT_TTL_ENV = {"SLOT_LOCK_TTL_SECONDS": "2", "LOCK_SWEEP_INTERVAL_SECONDS": "0.3"}


@pytest.fixture(scope="module")
def short_ttl_servers(
    store_uri: str, db_name: str, log_dir: Path
) -> Iterator[tuple[ApiServer, ApiServer]]:
    """Two API processes with 2-second locks; the housekeeping lease holder sweeps every 0.3 s."""
    with server_pair(store_uri, db_name, log_dir, SHORT_TTL_ENV) as pair:
        yield pair


# --- one booking, two processes -------------------------------------------------------


async def test_booking_through_a_reaches_subscribers_on_b(
    api: Api,
    server_a: ApiServer,
    server_b: ApiServer,
    listen: Listen,
) -> None:
    assert api.gql.url == server_a.url  # every change below goes in through process A
    clinic = await api.clinic()
    times = SlotTimes()
    watcher, patient = await api.patient("Watcher"), await api.patient("Booker")
    slots_on_b = listen(server_b, SLOT_UPDATES, {"doctorId": clinic.doctor_id}, watcher)
    appointments_on_b = listen(server_b, APPOINTMENT_UPDATES, {}, api.admin)

    async def book_a_primer() -> None:
        slot = await new_slot(api, clinic, times)
        primer = await api.patient("Primer")
        assert (await api.book(slot["id"], primer)).data["bookAppointment"]["id"]

    await until_live(book_a_primer, slots_on_b, appointments_on_b)
    slot = await new_slot(api, clinic, times)

    loop = asyncio.get_running_loop()
    sent = loop.time()
    booked = (await api.book(slot["id"], patient, reasonForVisit="checkup")).data
    answered = loop.time()
    appointment = booked["bookAppointment"]

    slot_arrival = await slots_on_b.wait_for(slot_event("BOOKED", slot["id"]), 30)
    appointment_arrival = await appointments_on_b.wait_for(
        appointment_event("CREATED", appointment["id"]), 30
    )

    assert slot_arrival is not None, "no BOOKED event on process B"
    assert appointment_arrival is not None, "no CREATED event on process B"
    for name, arrival in (("slot", slot_arrival), ("appointment", appointment_arrival)):
        latency = arrival.at - sent
        assert latency < DELIVERY_BOUND_SECONDS, (
            f"the {name} event took {latency:.3f}s from the booking request "
            f"({arrival.at - answered:.3f}s after its answer)"
        )
    slot_event_data = slot_arrival.data["slotUpdates"]
    assert slot_event_data["slot"] == {
        "id": slot["id"],
        "state": "BOOKED",
        "isBooked": True,
        "isAvailable": True,
        "lock": None,
    }
    instant(slot_event_data["at"])
    appointment_event_data = appointment_arrival.data["appointmentUpdates"]
    assert appointment_event_data["appointment"] == {
        "id": appointment["id"],
        "status": "SCHEDULED",
        "patient": {"id": patient.id},
        "doctor": {"id": clinic.doctor_id},
        "slot": {"id": slot["id"]},
    }
    instant(appointment_event_data["at"])
    # Each event arrived once, on a subscription that is still open.
    assert len(slots_on_b.matching(slot_event("BOOKED", slot["id"]))) == 1
    assert len(appointments_on_b.matching(appointment_event("CREATED", appointment["id"]))) == 1
    assert not slots_on_b.ended and not appointments_on_b.ended


# --- Redis goes away and comes back ---------------------------------------------------


async def test_redis_outage_keeps_mutations_working_and_subscriptions_alive(
    api: Api,
    http: httpx.AsyncClient,
    private_redis: RedisProcess,
    private_redis_pair: tuple[ApiServer, ApiServer],
    listen: Listen,
    store: Store,
) -> None:
    first, second = private_redis_pair
    via_first = Api(GraphQL(http, first.url), api.admin)
    clinic = await via_first.clinic()
    times = SlotTimes()
    watcher = await via_first.patient("Watcher")
    on_first, on_second = (
        listen(server, SLOT_UPDATES, {"doctorId": clinic.doctor_id}, watcher)
        for server in (first, second)
    )

    async def add_a_slot() -> None:
        await new_slot(via_first, clinic, times)

    await until_live(add_a_slot, on_first, on_second)

    private_redis.stop()

    # Redis is down: creating, holding and booking a slot all still succeed.
    patient = await via_first.patient("Booker during the outage")
    slot = await new_slot(via_first, clinic, times)
    assert slot["state"] == "AVAILABLE"
    locked = (await via_first.lock(slot["id"], patient)).data["lockSlot"]
    assert locked["state"] == "LOCKED"
    booked = (await via_first.book(slot["id"], patient)).data["bookAppointment"]
    assert booked["status"] == "SCHEDULED"
    assert booked["slot"] == {"id": slot["id"], "state": "BOOKED", "isBooked": True}
    stored = await store.slots.find_one({"_id": ObjectId(slot["id"])})
    assert stored is not None and stored["is_booked"] is True
    stored_appointment = await store.appointments.find_one({"_id": ObjectId(booked["id"])})
    assert stored_appointment is not None
    # Meanwhile the first process tells its own subscribers (it cannot reach the others).
    for kind in ("ADDED", "LOCKED", "BOOKED"):
        local = await on_first.wait_for(slot_event(kind, slot["id"]), 10)
        assert local is not None, f"no {kind} event for the first process's own subscriber"

    # Stay down long enough for the brokers' reconnect back-off to reach its 2 s cap.
    await asyncio.sleep(3)
    assert (await via_first.gql(SLOT_QUERY, {"id": slot["id"]})).data["slot"]["state"] == "BOOKED"

    private_redis.start()  # the same port: the brokers find it again by themselves

    # Without resubscribing, a change through the first process reaches the second again
    # once both brokers are back on Redis (they retry with a back-off of at most 2 s).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    delivered = None
    attempts = 0
    while delivered is None and loop.time() < deadline:
        attempts += 1
        added = await new_slot(via_first, clinic, times)
        delivered = await on_second.wait_for(slot_event("ADDED", added["id"]), 1.0)
    assert delivered is not None, f"nothing reached the second process in {attempts} tries"
    assert delivered.data["slotUpdates"]["slot"]["state"] == "AVAILABLE"
    assert not on_second.ended, f"the subscription ended: {on_second.error!r}"

    # And it stays delivered: the next change arrives promptly, once, on both subscriptions.
    sent = loop.time()
    follow_up = await new_slot(via_first, clinic, times)
    for listener in (on_first, on_second):
        arrival = await listener.wait_for(slot_event("ADDED", follow_up["id"]), 30)
        assert arrival is not None, "a change after the recovery did not arrive"
        assert arrival.at - sent < DELIVERY_BOUND_SECONDS, f"took {arrival.at - sent:.3f}s"
        assert len(listener.matching(slot_event("ADDED", follow_up["id"]))) == 1
        assert not listener.ended, f"the subscription ended: {listener.error!r}"


# --- a lock left to expire, two processes sharing the housekeeping lease ------------------


async def test_an_expired_lock_is_announced_once(
    api: Api,
    http: httpx.AsyncClient,
    short_ttl_servers: tuple[ApiServer, ApiServer],
    listen: Listen,
    store: Store,
) -> None:
    first, second = short_ttl_servers
    via_first = Api(GraphQL(http, first.url), api.admin)
    clinic = await via_first.clinic()
    times = SlotTimes()
    watcher = await via_first.patient("Watcher")
    listeners = [
        listen(server, SLOT_UPDATES, {"doctorId": clinic.doctor_id}, watcher)
        for server in (first, second)
    ]

    async def add_a_slot() -> None:
        await new_slot(via_first, clinic, times)

    await until_live(add_a_slot, *listeners)
    slot = await new_slot(via_first, clinic, times)
    holder = await via_first.patient("Holder")

    lock = (await via_first.lock(slot["id"], holder)).data["lockSlot"]["lock"]
    expires_at = instant(lock["expiresAt"])

    unlocked = slot_event("UNLOCKED", slot["id"])
    for listener in listeners:
        arrival = await listener.wait_for(unlocked, 20)
        assert arrival is not None, "the expired lock was never announced"
        event = arrival.data["slotUpdates"]
        assert instant(event["at"]) >= expires_at, "released before it expired"
        assert event["slot"]["state"] == "AVAILABLE"
        assert event["slot"]["lock"] is None
    # Every process sweeps; give a second announcement ample time to show up.
    await asyncio.sleep(3)
    for server, listener in zip((first, second), listeners, strict=True):
        assert len(listener.matching(unlocked)) == 1, (
            f"{len(listener.matching(unlocked))} UNLOCKED events on port {server.port}"
        )
        assert len(listener.matching(slot_event("LOCKED", slot["id"]))) == 1
        assert not listener.ended, f"the subscription ended: {listener.error!r}"
    stored = await store.slots.find_one({"_id": ObjectId(slot["id"])})
    assert stored is not None
    assert stored["booking_lock"].get("is_active") is None


async def test_many_locks_expiring_together_are_each_announced_once(
    api: Api,
    http: httpx.AsyncClient,
    short_ttl_servers: tuple[ApiServer, ApiServer],
    listen: Listen,
    store: Store,
) -> None:
    """A batch expiring at once keeps both processes' sweeps busy at the same time."""
    first, second = short_ttl_servers
    via = [Api(GraphQL(http, server.url), api.admin) for server in (first, second)]
    clinic = await via[0].clinic()
    times = SlotTimes()
    watcher = await via[0].patient("Watcher")
    listeners = [
        listen(server, SLOT_UPDATES, {"doctorId": clinic.doctor_id}, watcher)
        for server in (first, second)
    ]

    async def add_a_slot() -> None:
        await new_slot(via[0], clinic, times)

    await until_live(add_a_slot, *listeners)
    slots = [await new_slot(via[0], clinic, times) for _ in range(EXPIRING_TOGETHER)]
    holders = [await via[0].patient(f"Holder {n}") for n in range(EXPIRING_TOGETHER // 2)]
    # Each holder takes two slots (the most it may hold), half through each process.
    locked = await asyncio.gather(
        *(via[n % 2].lock(slot["id"], holders[n // 2]) for n, slot in enumerate(slots))
    )
    assert [reply.data["lockSlot"]["state"] for reply in locked] == ["LOCKED"] * len(slots)

    for listener in listeners:
        for slot in slots:
            arrival = await listener.wait_for(slot_event("UNLOCKED", slot["id"]), 20)
            assert arrival is not None, f"the expired lock on {slot['id']} was never announced"
    await asyncio.sleep(3)
    for server, listener in zip((first, second), listeners, strict=True):
        counts = {
            slot["id"]: len(listener.matching(slot_event("UNLOCKED", slot["id"]))) for slot in slots
        }
        assert set(counts.values()) == {1}, (
            f"UNLOCKED events per slot on port {server.port}: {counts}"
        )
    stored = await store.slots.count_documents(
        {"_id": {"$in": [ObjectId(slot["id"]) for slot in slots]}, "booking_lock.is_active": True}
    )
    assert stored == 0


# --- a subscriber that stops reading --------------------------------------------------

# Small, but not so small that the server's own shared execution of the subscription (which
# reads from a queue of this size too) could fall behind the test's one-at-a-time changes.
SLOW_QUEUE_SIZE = 8
# Each alias repeats the slot's specialty description and doctor's picture link (2,000
# characters each), so a few dozen events fill every buffer between server and client.
FAT_ALIASES = 14
FAT_SLOT_UPDATES = (
    "subscription($doctorId: ID) { slotUpdates(doctorId: $doctorId) { kind slot { id isAvailable }"
    + "".join(
        f" s{n}: slot {{ specialty {{ description }} doctor {{ profileImage }} }}"
        for n in range(FAT_ALIASES)
    )
    + " } }"
)
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id isAvailable }
}"""


@pytest.fixture(scope="module")
def small_queue_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        store_uri, db_name, env={"SUBSCRIBER_QUEUE_SIZE": str(SLOW_QUEUE_SIZE)}
    ).start(log_dir)
    yield server
    server.stop()


def tcp_send_buffer_max() -> int:
    """The most a Linux socket's send buffer grows to by itself (tcp_wmem's maximum)."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 32 * 1024 * 1024


@contextlib.asynccontextmanager
async def stalled_client(server: ApiServer) -> AsyncIterator[ClientConnection]:
    """A raw graphql-transport-ws connection that reads only when the test asks it to.

    A small receive buffer, a one-frame queue (the library stops reading from the socket
    when it is full), no compression and no keepalive: once the test stops calling recv(),
    the server's writes to this connection back up.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    except BaseException:
        sock.close()
        raise
    async with ws_connect(
        server.ws_url,
        sock=sock,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        compression=None,
        proxy=None,
        ping_interval=None,
        max_queue=1,
        max_size=None,
    ) as connection:
        yield connection


async def receive(
    connection: ClientConnection, within: float = 30, waiting_for: str = "a message"
) -> dict[str, Any]:
    try:
        message = await asyncio.wait_for(connection.recv(), within)
    except TimeoutError:
        raise AssertionError(f"no message in {within}s while waiting for {waiting_for}") from None
    decoded = json.loads(message)
    assert isinstance(decoded, dict)
    return decoded


async def test_a_subscriber_that_stops_reading_is_ended_and_others_keep_going(
    api: Api,
    http: httpx.AsyncClient,
    small_queue_server: ApiServer,
    listen: Listen,
) -> None:
    via = Api(GraphQL(http, small_queue_server.url), api.admin)
    specialty = (
        await via.gql(
            CREATE_SPECIALTY,
            {"input": {"name": unique("Specialty "), "description": secrets.token_hex(1000)}},
            api.admin.token,
        )
    ).data["createSpecialty"]
    doctor = (
        await via.gql(
            CREATE_DOCTOR,
            {
                "input": {
                    "name": unique("Dr. "),
                    "email": f"{unique('doctor')}@example.com",
                    "specialtyId": specialty["id"],
                    "licenseNumber": unique("LIC-"),
                    "profileImage": "https://example.com/" + secrets.token_hex(1000),
                }
            },
            api.admin.token,
        )
    ).data["createDoctor"]
    clinic = Clinic(specialty["id"], doctor["id"], "", "")
    times = SlotTimes()
    slot = await new_slot(via, clinic, times)
    variables = {"doctorId": clinic.doctor_id}
    # Both follow the same feed with the same document, so the server serves them together.
    watcher = listen(small_queue_server, FAT_SLOT_UPDATES, variables, await via.patient("Watcher"))
    sleeper = await via.patient("Sleeper")

    async def toggle(available: bool) -> None:
        reply = await via.gql(
            SET_AVAILABILITY, {"id": slot["id"], "isAvailable": available}, api.admin.token
        )
        assert reply.data["setSlotAvailability"]["isAvailable"] is available

    async with stalled_client(small_queue_server) as stalled:
        await stalled.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {sleeper.token}"}}
            )
        )
        assert (await receive(stalled))["type"] == "connection_ack"
        await stalled.send(
            json.dumps(
                {
                    "id": "slow",
                    "type": "subscribe",
                    "payload": {"query": FAT_SLOT_UPDATES, "variables": variables},
                }
            )
        )

        # Both subscriptions are live once each has had an event; the stalled one reads it.
        available = True
        for _ in range(20):
            available = not available
            await toggle(available)
            try:
                first = json.loads(await asyncio.wait_for(stalled.recv(), PRIME_WAIT_SECONDS))
            except TimeoutError:
                continue
            break
        else:
            raise AssertionError("the stalled client's subscription never became live")
        assert first["type"] == "next", first
        assert first["payload"]["data"]["slotUpdates"]["kind"] == "AVAILABILITY_CHANGED"
        assert await watcher.wait_for(lambda _: True, 30) is not None
        event_size = len(json.dumps(watcher.arrivals[-1].data))
        assert event_size > 50_000, f"events of {event_size} bytes are too small for this test"

        # The stalled client reads nothing more. Send it more than every buffer on the way
        # can hold: the server's socket at its largest, and 3 MiB for the rest (the server's
        # transport keeps at most 64 KiB, the client reads at most one 256 KiB chunk ahead
        # and its socket buffer is 32 KiB).
        budget = tcp_send_buffer_max() + 3 * 1024 * 1024
        changes = budget // event_size + 4 * SLOW_QUEUE_SIZE
        seen_before = len(watcher.arrivals)
        for _ in range(changes):
            available = not available
            await toggle(available)
        # Every change still reached the subscriber that keeps reading.
        target = seen_before + changes
        got = await watcher.wait_for(lambda _: len(watcher.arrivals) >= target, 60)
        assert got is not None, f"the watcher got {len(watcher.arrivals) - seen_before}/{changes}"

        # Reading again, the stalled client finds its subscription ended with an error.
        delivered = 0
        ending = "the subscription to be ended"
        message = await receive(stalled, waiting_for=ending)
        while message["type"] == "next" and not message["payload"].get("errors"):
            delivered += 1
            message = await receive(stalled, waiting_for=f"{ending} ({delivered} events so far)")
        assert message["type"] == "next", f"ended without an error after {delivered}: {message}"
        errors = message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW", errors
        assert (await receive(stalled)) == {"id": "slow", "type": "complete"}
        assert delivered < changes, f"{delivered} of {changes} events were kept for it"

    # The server goes on serving the subscriber that kept up.
    available = not available
    await toggle(available)
    assert await watcher.wait_for(lambda _: len(watcher.arrivals) > target, 30) is not None
    assert not watcher.ended, f"the watcher's subscription ended: {watcher.error!r}"

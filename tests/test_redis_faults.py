"""Redis stalls instead of going away: mutations keep answering, `eventsMissed` tells.

A private `redis-server` is stopped with SIGSTOP (its port stays open and every command
hangs) or paused for writes with CLIENT PAUSE, under two API processes with subscribers
on each: `eventsMissed` hears that events may have been missed, while `slotUpdates` and
`appointmentUpdates` go on and only ever carry their slot or appointment. "Keep answering"
is checked against the fault itself, not a clock: answers arrive while Redis is still
stalled (each Redis call gives up after REDIS_TIMEOUT_SECONDS, far inside the stall).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis

from tests.graphql_client import Api, Clinic, GraphQL, Person, Response, future_day
from tests.servers import ApiServer, RedisProcess, server_pair
from tests.subscriptions_client import (
    PROTOCOLS,
    Connection,
    Subscription,
    connect,
    error_codes,
    first_error,
    until_ready,
)

REDIS_TIMEOUT_SECONDS = 1.0
FAULT_ENV = {
    "REDIS_TIMEOUT_SECONDS": str(REDIS_TIMEOUT_SECONDS),
    "RATE_LIMIT_LOCK": "1000/minute",
    "RATE_LIMIT_BOOKING": "1000/minute",
    "RATE_LIMIT_WS_OPERATIONS": "1000/minute",
}
STALL_SECONDS = 10.0
PAUSE_MILLISECONDS = 8000
NOTICE_WAIT_SECONDS = 30.0  # a bound on a wait, polled; never a threshold

SLOT_UPDATES = """subscription($doctorId: ID) {
  slotUpdates(doctorId: $doctorId) { kind at slot { id date state } }
}"""
APPOINTMENT_UPDATES = """subscription($doctorId: ID) {
  appointmentUpdates(doctorId: $doctorId) { kind at appointment { id appointmentDate } }
}"""
EVENTS_MISSED = "subscription { eventsMissed { at reason } }"
KINDS = {
    "slotUpdates": ("slot", {"ADDED", "REMOVED", "LOCKED", "UNLOCKED", "BOOKED", "RELEASED"}),
    "appointmentUpdates": ("appointment", {"CREATED", "CONFIRMED", "CANCELLED", "RESCHEDULED"}),
}


class Times:
    """Successive non-overlapping 10-minute slots from 06:00; a full day moves on two days
    (a fast machine makes more than a day's worth while Redis is stopped), so two of these
    started on neighbouring days never meet."""

    def __init__(self, day: str) -> None:
        self.day = day
        self.next_minute = 6 * 60

    def __call__(self) -> tuple[str, str]:
        if self.next_minute + 10 > 24 * 60 - 1:
            self.day = (date.fromisoformat(self.day) + timedelta(days=2)).isoformat()
            self.next_minute = 6 * 60
        start, self.next_minute = self.next_minute, self.next_minute + 10
        return _clock(start), _clock(self.next_minute)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """One Redis for the module's stalls (conftest's `private_redis` is a test's own)."""
    with RedisProcess(tmp_path_factory.mktemp("redis-faults")) as server:
        yield server


@pytest.fixture(scope="module")
def servers(
    private_redis: RedisProcess, store_uri: str, db_name: str, log_dir: Path
) -> Iterator[tuple[ApiServer, ApiServer]]:
    env = {**FAULT_ENV, "REDIS_URL": private_redis.url}
    with server_pair(store_uri, db_name, log_dir, env) as pair:
        yield pair


class Scene:
    """A fresh doctor, a booking patient, and subscribers on both processes."""

    def __init__(self, http: httpx.AsyncClient, servers: tuple[ApiServer, ApiServer]) -> None:
        self.http = http
        self.servers = servers
        self.probe_times = Times(future_day(11))
        self.times = Times(future_day(12))
        self.heard: list[dict[str, Any]] = []  # every slot and appointment event, probes too

    async def setup(self) -> None:
        gql = GraphQL(self.http, self.servers[0].url)
        self.admin = await Api.login_admin(gql)
        self.apis = [Api(GraphQL(self.http, s.url), self.admin) for s in self.servers]
        self.clinic: Clinic = await self.apis[0].clinic()
        self.patient: Person = await self.apis[0].patient("Booker")
        self.prober: Person = await self.apis[0].patient("Prober")

    async def probe(self) -> None:
        """A slot on the probe day, booked: one slot and one appointment event to recognise."""
        start, end = self.probe_times()
        slot = await self.apis[0].slot(self.clinic, start, end, self.probe_times.day)
        booked = await self.apis[0].book(slot["id"], self.prober)
        assert booked.data["bookAppointment"]["status"] == "SCHEDULED"

    def is_probe(self, data: dict[str, Any]) -> bool:
        self.heard.append(data)
        event = data.get("slotUpdates") or data["appointmentUpdates"]
        document = event.get("slot") or event.get("appointment") or {}
        return document.get("date", document.get("appointmentDate")) == self.probe_times.day

    async def subscribe(
        self, stack: AsyncExitStack, server: ApiServer
    ) -> tuple[list[Subscription], Subscription]:
        """Slot and appointment subscriptions (to wait on with `until_ready`) and, sent
        before them on the same connection, an `eventsMissed` one (no change can probe it)."""
        connection = await stack.enter_async_context(connect(server.ws_url, self.admin.token))
        missed = missed_events(connection, f"missed {server.port}")
        variables = {"doctorId": self.clinic.doctor_id}
        updates = [
            connection.subscribe(query, variables, skip=self.is_probe, name=f"{name} {server.port}")
            for name, query in (("slots", SLOT_UPDATES), ("appointments", APPOINTMENT_UPDATES))
        ]
        return updates, missed

    def assert_every_event_carried_its_document(self) -> None:
        """What `slotUpdates` and `appointmentUpdates` delivered, faults or not: a known
        kind and its slot or appointment, never a null in their place."""
        assert self.heard
        for data in self.heard:
            ((field, event),) = data.items()
            document, kinds = KINDS[field]
            assert event["kind"] in kinds, data
            assert event[document] is not None and event[document]["id"], data

    async def new_slot(self, api: Api) -> dict[str, Any]:
        start, end = self.times()
        return await api.slot(self.clinic, start, end, self.times.day)

    async def timed(self, call: Awaitable[Response]) -> tuple[float, Response]:
        started = time.monotonic()
        reply = await call
        return time.monotonic() - started, reply

    async def lock_and_book(self, api: Api) -> list[float]:
        """Create, lock and book a slot through one process; each call's answer time."""
        start, end = self.times()
        slot_took, created = await self.timed(
            api.gql(
                CREATE_SLOT_SHORT,
                {
                    "doctorId": self.clinic.doctor_id,
                    "input": {"date": self.times.day, "startTime": start, "endTime": end},
                },
                self.admin.token,
            )
        )
        slot_id = created.data["createSlot"]["id"]
        lock_took, locked = await self.timed(api.lock(slot_id, self.patient))
        assert locked.data["lockSlot"]["state"] == "LOCKED"
        book_took, booked = await self.timed(api.book(slot_id, self.patient))
        assert booked.data["bookAppointment"]["status"] == "SCHEDULED"
        return [slot_took, lock_took, book_took]


CREATE_SLOT_SHORT = """mutation($doctorId: ID!, $input: SlotInput!) {
  createSlot(doctorId: $doctorId, input: $input) { id state }
}"""


@pytest_asyncio.fixture
async def scene(
    http: httpx.AsyncClient, servers: tuple[ApiServer, ApiServer]
) -> AsyncIterator[Scene]:
    scene = Scene(http, servers)
    await scene.setup()
    yield scene


def missed_events(connection: Connection, name: str) -> Subscription:
    return connection.subscribe(EVENTS_MISSED, name=name)


def reason_is(*reasons: str) -> Callable[[dict[str, Any]], bool]:
    def check(data: dict[str, Any]) -> bool:
        notice = data["eventsMissed"]
        assert notice["at"], data
        return bool(notice["reason"] in reasons)

    return check


ANY_REASON = reason_is("REDIS_RECONNECTED", "PUBLISH_FAILED")


def slot_added(slot_id: str) -> Callable[[dict[str, Any]], bool]:
    def check(data: dict[str, Any]) -> bool:
        event = data["slotUpdates"]
        return bool(event["kind"] == "ADDED" and (event["slot"] or {}).get("id") == slot_id)

    return check


async def _flowing_again(scene: Scene, slot_subscriptions: list[Subscription]) -> None:
    """A change through the first process reaches every slot subscriber once more."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + NOTICE_WAIT_SECONDS
    while True:
        slot = await scene.new_slot(scene.apis[0])
        try:
            for subscription in slot_subscriptions:
                await subscription.next_matching(slot_added(slot["id"]), within=2.0)
            return
        except AssertionError:
            if loop.time() >= deadline:
                raise


async def test_a_stopped_redis_neither_stalls_mutations_nor_hides_missed_events(
    scene: Scene, servers: tuple[ApiServer, ApiServer], private_redis: RedisProcess
) -> None:
    async with AsyncExitStack() as stack:
        subscriptions: list[Subscription] = []
        told: list[Subscription] = []
        for server in servers:
            updates, missed = await scene.subscribe(stack, server)
            subscriptions.extend(updates)
            told.append(missed)
        # The doctor, who follows emergencyRequests (which has no event kinds), is told too.
        doctor = await stack.enter_async_context(
            connect(servers[1].ws_url, scene.clinic.doctor_token)
        )
        told.append(missed_events(doctor, "doctor's missed"))
        await until_ready(subscriptions, scene.probe)

        answer_times: list[float] = []
        rounds_during_stall = 0
        private_redis.freeze()
        try:
            loop = asyncio.get_running_loop()
            stall_ends = loop.time() + STALL_SECONDS
            while loop.time() < stall_ends:
                rounds = await asyncio.gather(*(scene.lock_and_book(api) for api in scene.apis))
                answer_times.extend(took for one in rounds for took in one)
                rounds_during_stall += loop.time() < stall_ends
        finally:
            private_redis.thaw()

        # Mutations that waited for Redis would all answer after the thaw: at least one whole
        # round (create, lock and book on both processes) answered while Redis was stopped.
        assert rounds_during_stall >= 1, (
            f"no mutation round answered during the {STALL_SECONDS:g} s stall "
            f"(REDIS_TIMEOUT_SECONDS={REDIS_TIMEOUT_SECONDS}); answer times: {answer_times}"
        )

        # Every eventsMissed subscriber, on both processes, is told.
        for subscription in told:
            await subscription.next_matching(ANY_REASON, NOTICE_WAIT_SECONDS)

        # And events flow across processes again, on the same subscriptions, which never
        # carried anything but changed slots and appointments.
        await _flowing_again(scene, [s for s in subscriptions if s.name.startswith("slots")])
        assert not any(s.ended for s in [*subscriptions, *told])
        scene.assert_every_event_carried_its_document()


async def test_publishes_that_do_not_get_through_tell_every_process(
    scene: Scene, servers: tuple[ApiServer, ApiServer], private_redis: RedisProcess
) -> None:
    """Redis answers pings but holds writes (PUBLISH among them): no subscription breaks,
    so only the publishing process knows the others missed its event, and says so."""
    async with AsyncExitStack() as stack:
        on_first, first_told = await scene.subscribe(stack, servers[0])
        on_second, second_told = await scene.subscribe(stack, servers[1])
        await until_ready([*on_first, *on_second], scene.probe)

        control = redis.Redis.from_url(private_redis.url)
        try:
            control.execute_command("CLIENT", "PAUSE", PAUSE_MILLISECONDS, "WRITE")
            paused_at = time.monotonic()
            start, end = scene.times()
            took, created = await scene.timed(
                scene.apis[0].gql(
                    CREATE_SLOT_SHORT,
                    {
                        "doctorId": scene.clinic.doctor_id,
                        "input": {"date": scene.times.day, "startTime": start, "endTime": end},
                    },
                    scene.admin.token,
                )
            )
            # Answered while Redis still held writes: the publish gave up, not waited.
            still_paused = time.monotonic() - paused_at < PAUSE_MILLISECONDS / 1000
        finally:
            control.execute_command("CLIENT", "UNPAUSE")
            control.close()
        slot_id = created.data["createSlot"]["id"]
        assert still_paused, f"createSlot answered only after the pause ended ({took:.2f}s)"

        # The first process's own subscriber heard the change at once, from its own process.
        slots_on_first, slots_on_second = on_first[0], on_second[0]
        await slots_on_first.next_matching(slot_added(slot_id))
        # Every process's eventsMissed subscribers are told through Redis once it takes
        # writes again, the second's (which missed the change) among them.
        for subscription in (second_told, first_told):
            await subscription.next_matching(reason_is("PUBLISH_FAILED"), NOTICE_WAIT_SECONDS)
        await _flowing_again(scene, [slots_on_first, slots_on_second])
        assert not any(s.ended for s in [*on_first, *on_second])
        scene.assert_every_event_carried_its_document()


async def test_after_a_restart_the_first_event_through_each_process_gets_across(
    scene: Scene, servers: tuple[ApiServer, ApiServer], private_redis: RedisProcess
) -> None:
    """A restart leaves each process a pooled connection Redis has closed: the first publish
    on it is retried on a fresh one, not delivered to its own process only."""
    async with AsyncExitStack() as stack:
        on_first, first_told = await scene.subscribe(stack, servers[0])
        on_second, second_told = await scene.subscribe(stack, servers[1])
        subscriptions = [*on_first, *on_second]
        await until_ready(subscriptions, scene.probe)
        for api in scene.apis:  # each process publishes, so each pools a connection
            await scene.new_slot(api)

        private_redis.stop()
        private_redis.start()  # the same port: both processes find it again by themselves
        # Nothing was published meanwhile: each process tells its own that its link broke.
        for subscription in (first_told, second_told):
            await subscription.next_matching(reason_is("REDIS_RECONNECTED"), NOTICE_WAIT_SECONDS)

        for api, elsewhere in ((scene.apis[0], on_second[0]), (scene.apis[1], on_first[0])):
            slot = await scene.new_slot(api)
            await elsewhere.next_matching(slot_added(slot["id"]))
        assert not any(s.ended for s in [*subscriptions, first_told, second_told])
        scene.assert_every_event_carried_its_document()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_events_missed_needs_a_signed_in_user(
    servers: tuple[ApiServer, ApiServer], protocol: str
) -> None:
    async with connect(servers[0].ws_url, None, protocol) as anonymous:
        refused = missed_events(anonymous, "anonymous missed")
        failure = await refused.failure()
        assert error_codes(failure) == ["UNAUTHENTICATED"]
        assert first_error(failure)["message"]

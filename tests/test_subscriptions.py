"""Subscriptions over WebSocket with the `gql` client, both subprotocols, against real servers.

Every test follows one pattern: subscribe, wait until the server has registered the
subscription (by probing with a harmless change it must hear, see `until_ready`), act
over HTTP, then await the expected event with a bounded wait. "Not delivered" is shown
by order, never by waiting for silence: an unwanted change is made first, a wanted one
second, and the wanted one must be the first event that arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import websockets
from gql import GraphQLRequest
from gql.transport.exceptions import (
    TransportClosed,
    TransportConnectionFailed,
    TransportQueryError,
    TransportServerError,
)
from websockets.exceptions import ConnectionClosed

from tests.graphql_client import Api, Clinic, GraphQL, Person, future_day, unique
from tests.servers import TEST_JWT_SECRET, ApiServer
from tests.subscriptions_client import (
    GRAPHQL_TRANSPORT_WS,
    GRAPHQL_WS,
    PROTOCOLS,
    Payload,
    connect,
    error_codes,
    first_error,
    until_ready,
)
from tests.visit_clock import Store, starts_in

SLOT_UPDATES = """subscription($doctorId: ID, $specialtyId: ID, $date: Date) {
  slotUpdates(doctorId: $doctorId, specialtyId: $specialtyId, date: $date) {
    kind at
    slot {
      id date startTime state isAvailable isBooked doctor { id } specialty { id }
      lock { lockedByMe expiresAt patient { id } }
    }
  }
}"""
SLOT_UPDATES_WITHOUT_VIEWER_FIELDS = """subscription($doctorId: ID) {
  slotUpdates(doctorId: $doctorId) { kind at slot { id state lock { expiresAt patient { id } } } }
}"""
APPOINTMENT_UPDATES = """subscription($doctorId: ID) {
  appointmentUpdates(doctorId: $doctorId) {
    kind at
    appointment { id status patient { id } doctor { id } slot { id } }
  }
}"""
EMERGENCY_REQUESTS = """subscription {
  emergencyRequests { id message createdAt patient { id } doctor { id } specialty { id } }
}"""

UNLOCK = """mutation($slotId: ID!) { unlockSlot(slotId: $slotId) { id state } }"""
CANCEL = """mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"""
SET_STATUS = """mutation($id: ID!, $status: AppointmentStatus!) {
  updateAppointmentStatus(id: $id, status: $status) { id status }
}"""
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id state }
}"""
REMOVE_SLOT = """mutation($id: ID!) { removeSlot(id: $id) { id } }"""
EMERGENCY = """mutation($input: EmergencyRequestInput!) {
  sendEmergencyRequest(input: $input) { id message patient { id } }
}"""

LOCK_OVER_WS = """mutation($slotId: ID!) { lockSlot(slotId: $slotId) { id state } }"""
SLOT_STATE = """query($id: ID!) { slot(id: $id) { id state } }"""

PROBE_TIME = ("06:00", "06:30")  # probe slots keep out of the way of the tests' own slots
FILTER_DAY = future_day(57)  # a day no other test module uses


def slot_event(data: Payload) -> dict[str, Any]:
    return dict(data["slotUpdates"])


def appointment_event(data: Payload) -> dict[str, Any]:
    return dict(data["appointmentUpdates"])


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no UTC offset"
    return parsed


# --- probes: harmless changes a subscription is bound to hear ---------------------------


class SlotProbe:
    """Toggles the availability of a slot of its own; its events are skipped."""

    def __init__(self, api: Api, slot_id: str) -> None:
        self.api = api
        self.slot_id = slot_id
        self.available = True

    @classmethod
    async def create(cls, api: Api, clinic: Clinic, day: str | None = None) -> SlotProbe:
        slot = await api.slot(clinic, *PROBE_TIME, day=day)
        return cls(api, slot["id"])

    def skip(self, data: Payload) -> bool:
        return bool(slot_event(data)["slot"]["id"] == self.slot_id)

    async def __call__(self) -> None:
        self.available = not self.available
        reply = await self.api.gql(
            SET_AVAILABILITY,
            {"id": self.slot_id, "isAvailable": self.available},
            self.api.admin.token,
        )
        _ = reply.data


class AppointmentProbe:
    """Books and cancels, in turn, one slot of its own for a patient; its events are skipped."""

    def __init__(self, api: Api, patient: Person, slot_id: str) -> None:
        self.api = api
        self.patient = patient
        self.slot_id = slot_id
        self.appointment_id: str | None = None

    @classmethod
    async def create(cls, api: Api, clinic: Clinic, patient: Person) -> AppointmentProbe:
        slot = await api.slot(clinic, *PROBE_TIME)
        return cls(api, patient, slot["id"])

    def skip(self, data: Payload) -> bool:
        return bool(appointment_event(data)["appointment"]["slot"]["id"] == self.slot_id)

    async def __call__(self) -> None:
        if self.appointment_id is None:
            booked = (await self.api.book(self.slot_id, self.patient)).data["bookAppointment"]
            self.appointment_id = booked["id"]
        else:
            reply = await self.api.gql(CANCEL, {"id": self.appointment_id}, self.patient.token)
            _ = reply.data
            self.appointment_id = None


class EmergencyProbe:
    """Sends emergencies marked as probes to the given doctors, each from a fresh patient."""

    def __init__(self, api: Api, doctor_ids: list[str]) -> None:
        self.api = api
        self.doctor_ids = doctor_ids

    @staticmethod
    def skip(data: Payload) -> bool:
        return str(data["emergencyRequests"]["message"]).startswith("probe")

    async def __call__(self) -> None:
        sender = await self.api.patient("Probe")  # a fresh sender keeps clear of the rate limit
        for doctor_id in self.doctor_ids:
            reply = await self.api.gql(
                EMERGENCY, {"input": {"message": "probe", "doctorId": doctor_id}}, sender.token
            )
            _ = reply.data


# --- HTTP actions ------------------------------------------------------------------------


async def cancel(api: Api, appointment_id: str, who: Person) -> None:
    assert (await api.gql(CANCEL, {"id": appointment_id}, who.token)).data["cancelAppointment"][
        "status"
    ] == "CANCELLED"


async def set_status(api: Api, appointment_id: str, status: str, token: str) -> None:
    reply = await api.gql(SET_STATUS, {"id": appointment_id, "status": status}, token)
    assert reply.data["updateAppointmentStatus"]["status"] == status


async def book(api: Api, slot_id: str, who: Person) -> str:
    return str((await api.book(slot_id, who)).data["bookAppointment"]["id"])


def access_token(user_id: str, role: str, lifetime: timedelta, doctor_id: str | None = None) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": "aayulink-booking",
        "aud": "aayulink-clients",
        "sub": user_id,
        "role": role,
        "iat": now,
        "exp": now + lifetime,
    }
    if doctor_id is not None:
        claims["doctorId"] = doctor_id
    return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")


# --- slotUpdates: every kind, with its payload ------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_every_slot_change_arrives_with_its_kind_and_state(
    api: Api, server_a: ApiServer, protocol: str
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    watcher, actor = await api.patient("Watcher"), await api.patient("Actor")
    async with connect(server_a.ws_url, watcher.token, protocol) as connection:
        events = connection.subscribe(SLOT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip)
        await until_ready([events], probe)

        async def expect(kind: str, state: str) -> dict[str, Any]:
            event = slot_event(await events.next())
            assert (event["kind"], event["slot"]["state"]) == (kind, state), event
            assert event["slot"]["id"] == slot_id
            assert event["slot"]["doctor"]["id"] == clinic.doctor_id
            assert event["slot"]["specialty"]["id"] == clinic.specialty_id
            instant(event["at"])
            return event

        slot_id = (await api.slot(clinic, "09:00", "09:30"))["id"]
        added = await expect("ADDED", "AVAILABLE")
        assert (added["slot"]["startTime"], added["slot"]["lock"]) == ("09:00", None)

        assert (await api.lock(slot_id, actor)).data["lockSlot"]["state"] == "LOCKED"
        locked = await expect("LOCKED", "LOCKED")
        assert locked["slot"]["lock"]["lockedByMe"] is False
        assert locked["slot"]["lock"]["patient"] is None
        instant(locked["slot"]["lock"]["expiresAt"])

        _ = (await api.gql(UNLOCK, {"slotId": slot_id}, actor.token)).data
        assert (await expect("UNLOCKED", "AVAILABLE"))["slot"]["lock"] is None

        appointment_id = await book(api, slot_id, actor)
        assert (await expect("BOOKED", "BOOKED"))["slot"]["isBooked"] is True

        await cancel(api, appointment_id, actor)
        assert (await expect("RELEASED", "AVAILABLE"))["slot"]["isBooked"] is False

        _ = (
            await api.gql(SET_AVAILABILITY, {"id": slot_id, "isAvailable": False}, api.admin.token)
        ).data
        assert (await expect("AVAILABILITY_CHANGED", "UNAVAILABLE"))["slot"]["isAvailable"] is False

        _ = (await api.gql(REMOVE_SLOT, {"id": slot_id}, api.admin.token)).data
        await expect("REMOVED", "UNAVAILABLE")


@pytest.mark.parametrize("by", ["doctorId", "specialtyId", "date"])
async def test_slot_updates_deliver_only_what_the_filter_names(
    api: Api, server_a: ApiServer, by: str
) -> None:
    wanted, other = await api.clinic(), await api.clinic()
    probe = await SlotProbe.create(api, wanted, day=FILTER_DAY)
    variables = {
        "doctorId": {"doctorId": wanted.doctor_id},
        "specialtyId": {"specialtyId": wanted.specialty_id},
        "date": {"date": FILTER_DAY},
    }[by]
    patient = await api.patient()
    async with connect(server_a.ws_url, patient.token) as connection:
        events = connection.subscribe(SLOT_UPDATES, variables, skip=probe.skip)
        await until_ready([events], probe)

        if by == "date":  # the same doctor, another day
            unwanted = await api.slot(wanted, "10:00", "10:30", day=future_day(58))
        else:  # another doctor (and specialty), the same day
            unwanted = await api.slot(other, "10:00", "10:30", day=FILTER_DAY)
        expected = await api.slot(wanted, "11:00", "11:30", day=FILTER_DAY)

        event = slot_event(await events.next())
        assert event["slot"]["id"] == expected["id"] != unwanted["id"]
        assert event["kind"] == "ADDED"
        assert event["slot"]["date"] == FILTER_DAY
        assert event["slot"]["doctor"]["id"] == wanted.doctor_id


async def test_a_patient_never_sees_who_holds_a_lock_and_an_admin_does(
    api: Api, server_a: ApiServer, server_b: ApiServer
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    slot = await api.slot(clinic)
    holder, other = await api.patient("Holder"), await api.patient("Other")
    variables = {"doctorId": clinic.doctor_id}
    async with (
        connect(server_a.ws_url, other.token, GRAPHQL_TRANSPORT_WS) as other_connection,
        connect(server_a.ws_url, holder.token, GRAPHQL_WS) as holder_connection,
        connect(server_b.ws_url, api.admin.token, GRAPHQL_WS) as admin_connection,
    ):
        seen_by_other = other_connection.subscribe(SLOT_UPDATES, variables, skip=probe.skip)
        seen_by_holder = holder_connection.subscribe(SLOT_UPDATES, variables, skip=probe.skip)
        seen_by_admin = admin_connection.subscribe(SLOT_UPDATES, variables, skip=probe.skip)
        await until_ready([seen_by_other, seen_by_holder, seen_by_admin], probe)

        assert (await api.lock(slot["id"], holder)).data["lockSlot"]["state"] == "LOCKED"

        for events, by_me, patient in [
            (seen_by_other, False, None),
            (seen_by_holder, True, None),
            (seen_by_admin, False, {"id": holder.id}),
        ]:
            event = slot_event(await events.next())
            assert (event["kind"], event["slot"]["id"]) == ("LOCKED", slot["id"])
            assert event["slot"]["lock"]["lockedByMe"] is by_me, events.name
            assert event["slot"]["lock"]["patient"] == patient, events.name


async def test_a_doctor_follows_only_its_own_slots(api: Api, server_a: ApiServer) -> None:
    own, other = await api.clinic(), await api.clinic()
    probe = await SlotProbe.create(api, own)
    async with connect(server_a.ws_url, own.doctor_token) as connection:
        refused = connection.subscribe(SLOT_UPDATES, {"doctorId": other.doctor_id})
        assert error_codes(await refused.failure()) == ["FORBIDDEN"]

        events = connection.subscribe(SLOT_UPDATES, skip=probe.skip)  # no filter: its own
        await until_ready([events], probe)
        await api.slot(other, "10:00", "10:30")
        mine = await api.slot(own, "10:00", "10:30")
        assert slot_event(await events.next())["slot"]["id"] == mine["id"]


# --- appointmentUpdates ------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_appointment_events_reach_its_patient_its_doctor_and_admins(
    api: Api, server_a: ApiServer, server_b: ApiServer, store: Store, protocol: str
) -> None:
    clinic = await api.clinic()
    patient = await api.patient()
    probe = await AppointmentProbe.create(api, clinic, patient)
    first, second = (
        await api.slot(clinic, "09:00", "09:30"),
        await api.slot(clinic, "10:00", "10:30"),
    )
    async with (
        connect(server_a.ws_url, patient.token, protocol) as patient_connection,
        connect(server_a.ws_url, clinic.doctor_token, protocol) as doctor_connection,
        connect(server_b.ws_url, api.admin.token, protocol) as admin_connection,
    ):
        seen_by_patient = patient_connection.subscribe(APPOINTMENT_UPDATES, skip=probe.skip)
        seen_by_doctor = doctor_connection.subscribe(
            APPOINTMENT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip
        )
        seen_by_admin = admin_connection.subscribe(APPOINTMENT_UPDATES, skip=probe.skip)
        await until_ready([seen_by_patient, seen_by_doctor, seen_by_admin], probe)

        kept = await book(api, first["id"], patient)
        await set_status(api, kept, "CONFIRMED", clinic.doctor_token)
        await starts_in(store, kept, -5)  # a visit starts only near its time
        await set_status(api, kept, "IN_PROGRESS", clinic.doctor_token)
        dropped = await book(api, second["id"], patient)
        await cancel(api, dropped, patient)

        expected = [
            ("CREATED", kept, "SCHEDULED", first["id"]),
            ("CONFIRMED", kept, "CONFIRMED", first["id"]),
            ("STATUS_CHANGED", kept, "IN_PROGRESS", first["id"]),
            ("CREATED", dropped, "SCHEDULED", second["id"]),
            ("CANCELLED", dropped, "CANCELLED", second["id"]),
        ]
        ours = {kept, dropped}
        for events in [seen_by_patient, seen_by_doctor, seen_by_admin]:
            received = []
            for _ in expected:
                # The admin hears every appointment of the session; the others only these.
                data = await events.next_matching(
                    lambda d: appointment_event(d)["appointment"]["id"] in ours
                )
                event = appointment_event(data)
                appointment = event["appointment"]
                assert appointment["patient"]["id"] == patient.id
                assert appointment["doctor"]["id"] == clinic.doctor_id
                instant(event["at"])
                received.append(
                    (
                        event["kind"],
                        appointment["id"],
                        appointment["status"],
                        appointment["slot"]["id"],
                    )
                )
            assert received == expected, events.name


async def test_a_patient_receives_only_its_own_appointments(api: Api, server_a: ApiServer) -> None:
    clinic = await api.clinic()
    subscriber, stranger = await api.patient("Subscriber"), await api.patient("Stranger")
    probe = await AppointmentProbe.create(api, clinic, subscriber)
    theirs, mine = (
        await api.slot(clinic, "09:00", "09:30"),
        await api.slot(clinic, "10:00", "10:30"),
    )
    # Also checks that the lowercase `authorization` key of connection_init is accepted.
    async with connect(server_a.ws_url, subscriber.token, auth_key="authorization") as connection:
        events = connection.subscribe(APPOINTMENT_UPDATES, skip=probe.skip)
        await until_ready([events], probe)

        stranger_booking = await book(api, theirs["id"], stranger)
        own_booking = await book(api, mine["id"], subscriber)

        event = appointment_event(await events.next())
        assert event["kind"] == "CREATED"
        assert event["appointment"]["id"] == own_booking != stranger_booking
        assert event["appointment"]["patient"]["id"] == subscriber.id


async def test_a_doctor_receives_only_its_own_appointments(api: Api, server_a: ApiServer) -> None:
    """Also: an admin naming a doctor hears only that doctor's appointments."""
    own, other = await api.clinic(), await api.clinic()
    patient = await api.patient()
    probe = await AppointmentProbe.create(api, own, patient)
    elsewhere = await api.slot(other, "09:00", "09:30")
    here = await api.slot(own, "10:00", "10:30")
    async with (
        connect(server_a.ws_url, own.doctor_token, GRAPHQL_WS) as doctor_connection,
        connect(server_a.ws_url, api.admin.token) as admin_connection,
    ):
        seen_by_doctor = doctor_connection.subscribe(APPOINTMENT_UPDATES, skip=probe.skip)
        seen_by_admin = admin_connection.subscribe(
            APPOINTMENT_UPDATES, {"doctorId": own.doctor_id}, skip=probe.skip
        )
        await until_ready([seen_by_doctor, seen_by_admin], probe)

        other_booking = await book(api, elsewhere["id"], await api.patient())
        own_booking = await book(api, here["id"], patient)

        for events in [seen_by_doctor, seen_by_admin]:
            event = appointment_event(await events.next())
            assert (event["kind"], event["appointment"]["id"]) == ("CREATED", own_booking)
            assert own_booking != other_booking
            assert event["appointment"]["doctor"]["id"] == own.doctor_id


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_doctor_cannot_follow_another_doctors_appointments(
    api: Api, server_a: ApiServer, protocol: str
) -> None:
    own, other = await api.clinic(), await api.clinic()
    async with connect(server_a.ws_url, own.doctor_token, protocol) as connection:
        refused = connection.subscribe(APPOINTMENT_UPDATES, {"doctorId": other.doctor_id})
        assert error_codes(await refused.failure()) == ["FORBIDDEN"]


# --- who may subscribe at all ------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriptions_that_need_a_user_or_a_role_are_refused(
    api: Api, server_a: ApiServer, protocol: str
) -> None:
    patient = await api.patient()
    async with connect(server_a.ws_url, None, protocol) as anonymous:
        appointments = anonymous.subscribe(APPOINTMENT_UPDATES)
        assert error_codes(await appointments.failure()) == ["UNAUTHENTICATED"]
        emergencies = anonymous.subscribe(EMERGENCY_REQUESTS)
        assert error_codes(await emergencies.failure()) == ["UNAUTHENTICATED"]
    async with connect(server_a.ws_url, patient.token, protocol) as as_patient:
        emergencies = as_patient.subscribe(EMERGENCY_REQUESTS)
        failure = await emergencies.failure()
        assert error_codes(failure) == ["FORBIDDEN"]
        assert first_error(failure)["message"]


@pytest.mark.parametrize("token", ["not-a-jwt", "expired"])
async def test_graphql_transport_ws_closes_on_a_bad_token(
    api: Api, server_a: ApiServer, token: str
) -> None:
    patient = await api.patient()
    expired = token == "expired"
    if expired:
        token = access_token(patient.id, "PATIENT", timedelta(minutes=-5))
    with pytest.raises(TransportConnectionFailed) as raised:
        async with connect(server_a.ws_url, token, GRAPHQL_TRANSPORT_WS):
            pass
    closed = raised.value.__cause__
    assert isinstance(closed, ConnectionClosed), repr(raised.value)
    assert closed.rcvd is not None and closed.rcvd.code == 4403
    # The reason tells "refresh your token" from "rejected" (issue 8: 15).
    expected = "Access token expired" if expired else "Invalid access token"
    assert closed.rcvd.reason == expected


async def test_legacy_graphql_ws_refuses_a_bad_token(server_a: ApiServer) -> None:
    """graphql-ws: a connection_error carrying UNAUTHENTICATED, then the server closes."""
    with pytest.raises(TransportServerError) as raised:
        async with connect(server_a.ws_url, "not-a-jwt", GRAPHQL_WS):
            pass
    assert "UNAUTHENTICATED" in str(raised.value)


# --- emergencyRequests -------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_doctors_and_admins_receive_emergency_requests(
    api: Api, server_a: ApiServer, server_b: ApiServer, protocol: str
) -> None:
    clinic, elsewhere = await api.clinic(), await api.clinic()
    probe = EmergencyProbe(api, [clinic.doctor_id, elsewhere.doctor_id])
    patient = await api.patient()
    message = unique("chest pain ")
    async with (
        connect(server_a.ws_url, clinic.doctor_token, protocol) as doctor_connection,
        connect(server_a.ws_url, elsewhere.doctor_token, protocol) as other_doctor_connection,
        connect(server_b.ws_url, api.admin.token, protocol) as admin_connection,
    ):
        seen_by_doctor = doctor_connection.subscribe(EMERGENCY_REQUESTS, skip=probe.skip)
        seen_by_other_doctor = other_doctor_connection.subscribe(
            EMERGENCY_REQUESTS, skip=probe.skip
        )
        seen_by_admin = admin_connection.subscribe(EMERGENCY_REQUESTS, skip=probe.skip)
        await until_ready([seen_by_doctor, seen_by_other_doctor, seen_by_admin], probe)

        sent = (
            await api.gql(
                EMERGENCY,
                {"input": {"message": message, "specialtyId": clinic.specialty_id}},
                patient.token,
            )
        ).data["sendEmergencyRequest"]

        for events in [seen_by_doctor, seen_by_admin]:
            request = (
                await events.next_matching(lambda d: d["emergencyRequests"]["id"] == sent["id"])
            )["emergencyRequests"]
            assert request["message"] == message
            assert request["patient"] == {"id": patient.id}
            assert request["specialty"] == {"id": clinic.specialty_id}
            assert request["doctor"] is None
            instant(request["createdAt"])

        # The other specialty's doctor was not told: its next request is one sent to it.
        direct = (
            await api.gql(
                EMERGENCY,
                {"input": {"message": "for you", "doctorId": elsewhere.doctor_id}},
                patient.token,
            )
        ).data["sendEmergencyRequest"]
        assert (await seen_by_other_doctor.next())["emergencyRequests"]["id"] == direct["id"]


# --- an access token that expires while subscribed ---------------------------------------


@pytest.mark.parametrize("witness", ["same patient", "patient sharing the stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_expired_token_stops_delivery(
    api: Api, server_a: ApiServer, protocol: str, witness: str
) -> None:
    """The expiring subscriber ends; a witness on the same feed keeps receiving.

    With "patient sharing the stream" both use a query without viewer-specific fields, so
    the server may serve them from one shared execution, which the expiring subscriber
    started: its expiry must end it alone.
    """
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    patient = await api.patient()
    watcher = patient if witness == "same patient" else await api.patient("Witness")
    query = SLOT_UPDATES if witness == "same patient" else SLOT_UPDATES_WITHOUT_VIEWER_FIELDS
    short_lived = access_token(patient.id, "PATIENT", timedelta(seconds=3))
    variables = {"doctorId": clinic.doctor_id}
    async with (
        connect(server_a.ws_url, short_lived, protocol) as expiring_connection,
        connect(server_a.ws_url, watcher.token, protocol) as witness_connection,
    ):
        expiring = expiring_connection.subscribe(query, variables, skip=probe.skip)
        await until_ready([expiring], probe)  # registered first, before the witness
        watching = witness_connection.subscribe(query, variables, skip=probe.skip)
        await until_ready([watching], probe)

        before = await api.slot(clinic, "09:00", "09:30")
        assert slot_event(await expiring.next())["slot"]["id"] == before["id"]
        assert slot_event(await watching.next())["slot"]["id"] == before["id"]

        ended = await expiring.failure(within=20)
        if isinstance(ended, TransportQueryError):
            assert error_codes(ended) == ["UNAUTHENTICATED"]
        else:  # closing the connection is the other allowed answer
            assert isinstance(ended, TransportClosed | TransportConnectionFailed), repr(ended)

        after = await api.slot(clinic, "10:00", "10:30")
        assert slot_event(await watching.next())["slot"]["id"] == after["id"]
        # The witness heard it, so it was published; the expired stream had already ended.
        assert expiring.ended
        assert expiring.pending() == []


async def test_an_expired_connection_cannot_act_over_the_websocket(
    api: Api, server_a: ApiServer
) -> None:
    """Once its token has expired, the connection's mutations are refused too.

    graphql-transport-ws carries queries and mutations as well as subscriptions (the legacy
    graphql-ws, as served here, carries only subscriptions).
    """
    protocol = GRAPHQL_TRANSPORT_WS
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    slot = await api.slot(clinic, "09:00", "09:30")
    patient = await api.patient()
    short_lived = access_token(patient.id, "PATIENT", timedelta(seconds=3))
    async with connect(server_a.ws_url, short_lived, protocol) as connection:
        events = connection.subscribe(SLOT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip)
        await until_ready([events], probe)
        await events.failure(within=20)  # the token has expired

        try:
            await connection.session.execute(
                GraphQLRequest(LOCK_OVER_WS, variable_values={"slotId": slot["id"]})
            )
        except TransportQueryError as refused:
            assert error_codes(refused) == ["UNAUTHENTICATED"]
        except (TransportClosed, TransportConnectionFailed):
            pass  # closing the connection is the other allowed answer
        else:
            pytest.fail("an expired connection locked a slot")
    state = await api.gql(SLOT_STATE, {"id": slot["id"]}, api.admin.token)
    assert state.data["slot"]["state"] == "AVAILABLE"


# --- limits, on a server configured with tiny ones ----------------------------------------

TINY_LIMIT = 2  # lockSlot calls and WebSocket subscribes per user per minute
INIT_TIMEOUT_SECONDS = 1


@pytest.fixture(scope="module")
def strict_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        store_uri,
        db_name,
        env={
            "RATE_LIMIT_LOCK": f"{TINY_LIMIT}/minute",
            "RATE_LIMIT_WS_OPERATIONS": f"{TINY_LIMIT}/minute",
            "WS_MAX_SUBSCRIPTIONS": "1",
            "WS_CONNECTION_INIT_TIMEOUT_SECONDS": str(INIT_TIMEOUT_SECONDS),
        },
    ).start(log_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_api(http: httpx.AsyncClient, strict_server: ApiServer, api: Api) -> Api:
    return Api(GraphQL(http, strict_server.url), api.admin)


def assert_rate_limited(error: dict[str, Any]) -> None:
    extensions = error.get("extensions") or {}
    assert extensions.get("code") == "RATE_LIMITED", error
    retry_after = extensions.get("retryAfter")
    assert isinstance(retry_after, int) and not isinstance(retry_after, bool), error
    assert retry_after >= 1, error


async def test_lock_slot_is_rate_limited_per_user(api: Api, strict_api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30")
    other_slot = await api.slot(clinic, "10:00", "10:30")
    patient, neighbour = await api.patient(), await api.patient()
    for _ in range(TINY_LIMIT):  # locking again renews: no other rule gets in the way
        assert (await strict_api.lock(slot["id"], patient)).data["lockSlot"]["state"] == "LOCKED"
    over = await strict_api.lock(slot["id"], patient)
    assert_rate_limited(over.error)
    assert over.body.get("data") is None
    # The limit is the caller's own: another patient still locks.
    locked = await strict_api.lock(other_slot["id"], neighbour)
    assert locked.data["lockSlot"]["state"] == "LOCKED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_websocket_subscribes_are_rate_limited_per_user(
    api: Api, strict_server: ApiServer, protocol: str
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    patient, neighbour = await api.patient(), await api.patient()
    variables = {"doctorId": clinic.doctor_id}
    url = strict_server.ws_url
    async with (
        connect(url, patient.token, protocol) as first,
        connect(url, patient.token, protocol) as second,
        connect(url, patient.token, protocol) as third,
        connect(url, neighbour.token, protocol) as neighbours,
    ):
        allowed = [
            connection.subscribe(SLOT_UPDATES, variables, skip=probe.skip, name=f"allowed {n}")
            for n, connection in enumerate([first, second])
        ]
        await until_ready(allowed, probe)

        refused = third.subscribe(SLOT_UPDATES, variables, name="over the limit")
        assert_rate_limited(first_error(await refused.failure()))

        # The limit is the user's own: another patient still subscribes.
        unaffected = neighbours.subscribe(SLOT_UPDATES, variables, skip=probe.skip)
        await until_ready([unaffected], probe)

        # The subscriptions within the limit carry on.
        added = await api.slot(clinic, "09:00", "09:30")
        for events in [*allowed, unaffected]:
            assert slot_event(await events.next())["slot"]["id"] == added["id"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriptions_per_connection_are_capped(
    api: Api, strict_server: ApiServer, protocol: str
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    patient = await api.patient()
    variables = {"doctorId": clinic.doctor_id}
    async with connect(strict_server.ws_url, patient.token, protocol) as connection:
        kept = connection.subscribe(SLOT_UPDATES, variables, skip=probe.skip, name="kept")
        await until_ready([kept], probe)

        extra = connection.subscribe(SLOT_UPDATES, variables, name="one too many")
        assert "limit" in first_error(await extra.failure())["message"].lower()

        added = await api.slot(clinic, "09:00", "09:30")
        assert slot_event(await kept.next())["slot"]["id"] == added["id"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_connection_without_connection_init_is_closed(
    strict_server: ApiServer, protocol: str
) -> None:
    async with websockets.connect(
        strict_server.ws_url, subprotocols=[websockets.Subprotocol(protocol)]
    ) as socket:
        assert socket.subprotocol == protocol
        try:
            await asyncio.wait_for(socket.recv(), INIT_TIMEOUT_SECONDS + 10)
        except ConnectionClosed:
            pass
        except TimeoutError:
            pytest.fail(f"{protocol}: still open {INIT_TIMEOUT_SECONDS + 10}s after connecting")
        else:
            pytest.fail(f"{protocol}: a message arrived before connection_init")
        assert socket.close_code is not None
        if protocol == GRAPHQL_TRANSPORT_WS:
            assert socket.close_code == 4408


async def test_deactivating_a_doctor_announces_its_future_slots(
    api: Api, server_a: ApiServer
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    watcher = await api.patient("Watcher")
    slot_id = (await api.slot(clinic, "13:00", "13:30"))["id"]
    deactivate = """mutation($id: ID!) {
      updateDoctor(id: $id, input: {isActive: false}) { isActive }
    }"""
    async with connect(server_a.ws_url, watcher.token, PROTOCOLS[0]) as connection:
        events = connection.subscribe(SLOT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip)
        await until_ready([events], probe)
        changed = await api.gql(deactivate, {"id": clinic.doctor_id}, api.admin.token)
        assert changed.data["updateDoctor"]["isActive"] is False
        event = slot_event(await events.next())
        assert (event["kind"], event["slot"]["id"], event["slot"]["state"]) == (
            "AVAILABILITY_CHANGED",
            slot_id,
            "UNAVAILABLE",
        )


# --- the per-subscriber checks hold whatever the operation's shape (issue 8: 6) -----------

SLOT_UPDATES_IN_INLINE_FRAGMENT = """subscription($doctorId: ID) {
  ... on Subscription { slotUpdates(doctorId: $doctorId) { kind at slot { id state } } }
}"""
SLOT_UPDATES_IN_FRAGMENT = """subscription($doctorId: ID) { ...Feed }
fragment Feed on Subscription { slotUpdates(doctorId: $doctorId) { kind at slot { id state } } }"""
SHAPES = [
    pytest.param(SLOT_UPDATES_IN_INLINE_FRAGMENT, id="inline-fragment"),
    pytest.param(SLOT_UPDATES_IN_FRAGMENT, id="fragment-spread"),
]


@pytest.mark.parametrize("query", SHAPES)
async def test_an_expired_token_stops_delivery_inside_fragments(
    api: Api, server_a: ApiServer, query: str
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    patient = await api.patient()
    short_lived = access_token(patient.id, "PATIENT", timedelta(seconds=3))
    variables = {"doctorId": clinic.doctor_id}
    async with (
        connect(server_a.ws_url, short_lived, GRAPHQL_TRANSPORT_WS) as expiring_connection,
        connect(server_a.ws_url, patient.token, GRAPHQL_TRANSPORT_WS) as witness_connection,
    ):
        expiring = expiring_connection.subscribe(query, variables, skip=probe.skip, name="exp")
        await until_ready([expiring], probe)
        ended = await expiring.failure(within=20)
        if isinstance(ended, TransportQueryError):
            assert error_codes(ended) == ["UNAUTHENTICATED"]
        else:
            assert isinstance(ended, TransportClosed | TransportConnectionFailed), repr(ended)
        watching = witness_connection.subscribe(query, variables, skip=probe.skip, name="wit")
        await until_ready([watching], probe)
        after = await api.slot(clinic, "10:00", "10:30")
        assert slot_event(await watching.next())["slot"]["id"] == after["id"]
        assert expiring.pending() == []


@pytest.mark.parametrize("query", SHAPES)
async def test_subscribes_inside_fragments_count_against_the_rate_limit(
    api: Api, strict_server: ApiServer, query: str
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    patient = await api.patient()
    variables = {"doctorId": clinic.doctor_id}
    url = strict_server.ws_url
    async with (
        connect(url, patient.token, GRAPHQL_TRANSPORT_WS) as first,
        connect(url, patient.token, GRAPHQL_TRANSPORT_WS) as second,
        connect(url, patient.token, GRAPHQL_TRANSPORT_WS) as third,
    ):
        allowed = [
            connection.subscribe(query, variables, skip=probe.skip, name=f"allowed {n}")
            for n, connection in enumerate([first, second])
        ]
        await until_ready(allowed, probe)
        refused = third.subscribe(query, variables, name="over the limit")
        assert_rate_limited(first_error(await refused.failure()))

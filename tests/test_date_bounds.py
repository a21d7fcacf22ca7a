"""Every date a request carries is bounded, so none reaches INTERNAL_SERVER_ERROR (issue 8: 5).

Year 1 in Tokyo or 9999-12-31 in New York overflowed datetime when turned into an instant;
so did appointment cursors encoding such years.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

import pytest
from bson import ObjectId

from tests.graphql_client import CREATE_SLOT, Api, Response
from tests.schedule_helpers import CLEAR_OVERRIDE, SET_OVERRIDE, SET_SCHEDULE
from tests.servers import ApiServer
from tests.ws_raw import subscribe_once

OVERFLOWING = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]
APPOINTMENTS = """query($from: Date, $to: Date, $after: String) {
  appointments(from: $from, to: $to, after: $after) { pageInfo { hasNextPage endCursor } }
}"""


def assert_refused(reply: Response, field: str) -> None:
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == field, reply.body
    assert reply.body.get("data") is None, reply.body


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    ("zone", "day"), [("America/New_York", "9999-12-31"), ("Asia/Tokyo", "0001-01-01")]
)
async def test_create_slot_on_an_overflowing_date_is_refused(
    api: Api, store: Any, zone: str, day: str
) -> None:
    clinic = await api.clinic(zone)
    slot = {"date": day, "startTime": "23:00", "endTime": "23:30"}
    reply = await api.gql(
        CREATE_SLOT, {"doctorId": clinic.doctor_id, "input": slot}, api.admin.token
    )
    assert_refused(reply, "date")
    assert await store.slots.count_documents({"doctor_id": ObjectId(clinic.doctor_id)}) == 0


async def test_create_slot_more_than_731_days_ahead_is_refused(api: Api, store: Any) -> None:
    clinic = await api.clinic("Pacific/Kiritimati")
    far = (date.today() + timedelta(days=733)).isoformat()
    slot = {"date": far, "startTime": "09:00", "endTime": "09:30"}
    reply = await api.gql(
        CREATE_SLOT, {"doctorId": clinic.doctor_id, "input": slot}, api.admin.token
    )
    assert_refused(reply, "date")
    assert await store.slots.count_documents({"doctor_id": ObjectId(clinic.doctor_id)}) == 0


async def test_create_slot_700_days_ahead_is_accepted(api: Api) -> None:
    clinic = await api.clinic("America/New_York")
    made = await api.slot(clinic, day=(date.today() + timedelta(days=700)).isoformat())
    assert made["state"] == "AVAILABLE"


async def test_create_slot_as_a_literal_names_the_field(api: Api) -> None:
    clinic = await api.clinic("Asia/Tokyo")
    mutation = f"""mutation {{ createSlot(doctorId: "{clinic.doctor_id}",
      input: {{date: "0001-01-01", startTime: "00:00", endTime: "00:30"}}) {{ id }} }}"""
    assert_refused(await api.gql(mutation, None, api.admin.token), "date")


@pytest.mark.parametrize(
    "after",
    [
        cursor(f"0001-01-01T00:00:00+00:00|{ObjectId()}"),
        cursor(f"0001-01-01T00:00:00+14:00|{ObjectId()}"),
        cursor(f"9999-12-31T23:59:59.999999+00:00|{ObjectId()}"),
        cursor(f"9999-12-31T23:59:59-12:00|{ObjectId()}"),
        cursor(f"2026-01-01T00:00:00|{ObjectId()}"),
    ],
    ids=["year-1", "year-1-ahead-of-utc", "year-9999", "year-9999-behind-utc", "no-zone"],
)
async def test_a_cursor_encoding_an_overflowing_instant_is_refused(api: Api, after: str) -> None:
    assert_refused(await api.gql(APPOINTMENTS, {"after": after}, api.admin.token), "after")


@pytest.mark.parametrize("day", OVERFLOWING)
async def test_every_date_argument_refuses_a_date_outside_1900_to_2999(
    api: Api, store: Any, day: str
) -> None:
    clinic = await api.clinic("Asia/Tokyo")
    doctor = clinic.doctor_id
    token = api.admin.token
    asks: list[tuple[str, dict[str, Any], str]] = [
        ("query($date: Date) { doctors(date: $date) { id } }", {"date": day}, "date"),
        (
            "query($d: ID!, $date: Date!) { availableSlots(doctorId: $d, date: $date) { id } }",
            {"d": doctor, "date": day},
            "date",
        ),
        (
            "query($d: ID!, $date: Date!) { doctor(id: $d) { daySlots(date: $date) { id } } }",
            {"d": doctor, "date": day},
            "date",
        ),
        (
            "query($d: ID!, $from: Date!, $to: Date!) {"
            " doctor(id: $d) { availability(from: $from, to: $to) { date } } }",
            {"d": doctor, "from": day, "to": day},
            "from",
        ),
        (
            "query($d: ID!, $from: Date!, $to: Date!) {"
            " doctor(id: $d) { dateOverrides(from: $from, to: $to) { date } } }",
            {"d": doctor, "from": "2026-01-01", "to": day},
            "to",
        ),
        (
            "query($d: ID!, $from: Date!, $to: Date!) { slots(doctorId: $d, from: $from, to: $to)"
            " { id } }",
            {"d": doctor, "from": day, "to": "2026-01-01"},
            "from",
        ),
        (APPOINTMENTS, {"from": day}, "from"),
        (APPOINTMENTS, {"to": day}, "to"),
        (SET_OVERRIDE, {"doctorId": doctor, "date": day, "ranges": []}, "date"),
        (CLEAR_OVERRIDE, {"doctorId": doctor, "date": day}, "date"),
        (
            SET_SCHEDULE,
            {"doctorId": doctor, "input": {"slotMinutes": 30, "weekly": [], "validFrom": day}},
            "validFrom",
        ),
        (
            SET_SCHEDULE,
            {"doctorId": doctor, "input": {"slotMinutes": 30, "weekly": [], "validUntil": day}},
            "validUntil",
        ),
    ]
    for query, variables, field in asks:
        assert_refused(await api.gql(query, variables, token), field)
    written = await store.doctors.find_one({"_id": ObjectId(doctor)})
    assert written.get("schedule") is None and written.get("horizon_end") is None
    assert await store.date_overrides.count_documents({"doctor_id": ObjectId(doctor)}) == 0


async def test_a_subscription_date_outside_the_range_is_refused(server_a: ApiServer) -> None:
    exchange = await subscribe_once(
        server_a.ws_url,
        "subscription($date: Date) { slotUpdates(date: $date) { kind } }",
        variables={"date": "0001-01-01"},
    )
    error = exchange.error_payload()
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == "date", error


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Asia/Tokyo", "1900-01-01"),
        ("America/New_York", "2999-12-31"),
        ("Pacific/Kiritimati", "2999-12-31"),
        ("Pacific/Pago_Pago", "1900-01-01"),
    ],
)
async def test_the_edges_of_the_range_are_answered(api: Api, zone: str, day: str) -> None:
    clinic = await api.clinic(zone)
    query = """query($d: ID!, $day: Date!) { doctor(id: $d) {
      daySlots(date: $day) { id } availableSlots(date: $day) { id }
      availability(from: $day, to: $day) { date }
      dateOverrides(from: $day, to: $day) { date } } }"""
    reply = await api.gql(query, {"d": clinic.doctor_id, "day": day}, api.admin.token)
    doctor = reply.data["doctor"]
    assert doctor["daySlots"] == [] and doctor["availableSlots"] == []
    listed = await api.gql(APPOINTMENTS, {"from": day, "to": day}, api.admin.token)
    assert listed.data["appointments"]["pageInfo"]["hasNextPage"] is False

"""A bounded schemathesis run over every query and mutation: whatever a client sends, the
answer is never INTERNAL_SERVER_ERROR nor an HTTP 5xx.

The scalars draw mostly from a dictionary of real ids, dates and times seeded here, so the
requests get past "not found" and into the rules; the rest is hypothesis's own noise.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.graphql import nodes

from tests.graphql_client import Api, GraphQL, future_day
from tests.servers import ROOT, ApiServer

EXAMPLES_PER_OPERATION = 10
CALLERS = ("admin", "patient", "doctor", "anonymous")
TIMES = ["00:00", "08:00", "09:00", "09:30", "10:00", "12:15", "23:30", "23:59", "24:00", "9:00"]
TIMEZONES = ["UTC", "Asia/Kolkata", "America/New_York", "Europe/London", "Not/AZone"]
LOUD = {"RATE_LIMIT_LOCK", "RATE_LIMIT_BOOKING", "RATE_LIMIT_EMERGENCY"}


@dataclass
class Seeded:
    """The real records the fuzzer's dictionaries are made of, and who calls."""

    ids: dict[str, list[str]]  # dictionary name -> real ids of that kind
    dates: list[str]
    emails: list[str]
    tokens: dict[str, str | None]


@pytest.fixture(scope="module")
def fuzz_server(store_uri: str, log_dir: Path) -> Iterator[ApiServer]:
    """Its own database, so fuzzed writes touch no other test; a short horizon keeps a
    fuzzed setSchedule cheap, and rate limits are out of the way so rules get reached."""
    env = {name: "100000/minute" for name in LOUD} | {"SCHEDULE_HORIZON_DAYS": "2"}
    server = ApiServer(store_uri, f"aayulink_fuzz_{uuid.uuid4().hex[:8]}", env=env)
    server.start(log_dir)
    yield server
    server.stop()


async def _seed(api: Api) -> Seeded:
    clinic = await api.clinic("Asia/Kolkata")
    elsewhere = await api.clinic()
    day = future_day(3)
    slots = [await api.slot(clinic, f"{h:02d}:00", f"{h:02d}:30", day) for h in (9, 10, 11, 12)]
    slots.append(await api.slot(elsewhere, "09:00", "09:30", day))
    patient = await api.patient("Fuzz patient")
    other = await api.patient("Other patient")
    booked = (await api.book(slots[0]["id"], patient)).data["bookAppointment"]
    theirs = (await api.book(slots[1]["id"], other)).data["bookAppointment"]
    assert (await api.lock(slots[2]["id"], patient)).data["lockSlot"]
    today = date.today()
    return Seeded(
        ids={
            "specialties": [clinic.specialty_id, elsewhere.specialty_id],
            "doctors": [clinic.doctor_id, elsewhere.doctor_id],
            "slots": [s["id"] for s in slots],
            "appointments": [booked["id"], theirs["id"]],
            "patients": [patient.id, other.id, api.admin.id],
        },
        dates=[day, today.isoformat(), (today + timedelta(days=1)).isoformat(), future_day(30)],
        emails=[patient.email, other.email, clinic.doctor_email, api.admin.email],
        tokens={
            "admin": api.admin.token,
            "patient": patient.token,
            "doctor": clinic.doctor_token,
            "anonymous": None,
        },
    )


# Which arguments take which dictionary, in schemathesis's `<Type>.<field>.<argument>` keys.
BINDINGS = {
    "slots": [
        "*.*.slotId",
        "*.*.input.slotId",
        "Query.slot.id",
        "Mutation.removeSlot.id",
        "Mutation.setSlotAvailability.id",
    ],
    "doctors": [
        "*.*.doctorId",
        "*.*.input.doctorId",
        "Query.doctor.id",
        "Mutation.updateDoctor.id",
    ],
    "specialties": [
        "*.*.specialtyId",
        "*.*.input.specialtyId",
        "Query.specialty.id",
        "Mutation.updateSpecialty.id",
    ],
    "appointments": [
        "Query.appointment.id",
        "Mutation.cancelAppointment.id",
        "Mutation.rescheduleAppointment.id",
        "Mutation.updateAppointmentStatus.id",
    ],
    "patients": ["*.*.patientId", "*.*.input.patientId"],
    "cursors": ["Query.appointments.after"],
    "counts": [
        "Query.appointments.first",
        "*.*.input.slotMinutes",
        "*.*.input.bufferMinutes",
        "*.*.input.durationMinutes",
        "*.*.input.minNoticeMinutes",
        "*.*.input.maxDaysAhead",
    ],
    "times": [
        "*.*.input.startTime",
        "*.*.input.endTime",
        "*.*.ranges[*].start",
        "*.*.ranges[*].end",
        "*.*.input.weekly[*].ranges[*].start",
        "*.*.input.weekly[*].ranges[*].end",
    ],
    "timezones": ["*.*.input.timezone"],
    "emails": ["*.*.email", "*.*.input.email"],
    "passwords": ["*.*.password", "*.*.input.password"],
}


def _config(seeded: Seeded) -> SchemathesisConfig:
    """Real values in most arguments (the rest is hypothesis's noise), so requests get past
    "not found" into the rules."""
    values = seeded.ids | {
        "times": TIMES,
        "timezones": TIMEZONES,
        "emails": seeded.emails,
        "passwords": ["patient-password", "doctor-password", "short"],
        "cursors": _cursors(seeded),
        "counts": [1, 5, 15, 30, 50, 100],
    }
    return SchemathesisConfig.from_dict(
        {
            "dictionaries": {name: {"values": entries} for name, entries in values.items()},
            "parameters": {
                key: {"dictionary": name, "probability": 0.85}
                for name, keys in BINDINGS.items()
                for key in keys
            },
        }
    )


def _cursors(seeded: Seeded) -> list[str]:
    """Cursors as the API makes them (start instant and id), at ordinary and extreme instants."""
    oid = seeded.ids["appointments"][0]
    instants = [
        f"{seeded.dates[0]}T03:30:00+00:00",
        f"{seeded.dates[0]}T09:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "not-a-date",
    ]
    return [base64.urlsafe_b64encode(f"{at}|{oid}".encode()).decode() for at in instants]


def _register_scalars(seeded: Seeded) -> None:
    """Custom scalars have no dictionaries in schemathesis: real dates mostly, any the rest."""
    real = st.sampled_from(seeded.dates)
    dates = st.one_of(
        real,
        real,
        real,
        st.sampled_from(["0001-01-01", "9999-12-31"]),
        st.dates().map(date.isoformat),
        st.text(max_size=12),
    )
    instants = st.one_of(
        st.sampled_from([datetime.now(UTC).isoformat(), f"{seeded.dates[0]}T09:00:00+05:30"]),
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
        st.text(max_size=30),
    )
    schemathesis.graphql.scalar("Date", dates.map(nodes.String))
    schemathesis.graphql.scalar("DateTime", instants.map(nodes.String))


def _fuzz(server: ApiServer, seeded: Seeded) -> list[str]:
    """Every operation of the exported schema, each caller; returns what went wrong."""
    _register_scalars(seeded)
    schema = schemathesis.graphql.from_path(ROOT / "schema.graphql", config=_config(seeded))
    failures: list[str] = []
    for result in schema.get_all_operations():
        _fuzz_operation(result.ok(), server.url, seeded, failures)
    return failures


def _fuzz_operation(operation: Any, url: str, seeded: Seeded, failures: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), caller=st.sampled_from(CALLERS))
    def run(case: Any, caller: str) -> None:
        token = seeded.tokens[caller]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = case.call(base_url=url, headers=headers, timeout=60)
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in _codes(response.text):
            failures.append(
                f"{operation.label} as {caller}: HTTP {response.status_code}\n"
                f"{case.body}\n{response.text[:600]}"
            )

    run()


def _codes(text: str) -> list[str]:
    try:
        body = json.loads(text)
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [str((error.get("extensions") or {}).get("code")) for error in errors or []]


async def test_no_fuzzed_request_is_an_internal_error(
    fuzz_server: ApiServer, http: httpx.AsyncClient
) -> None:
    fuzz_gql = GraphQL(http, fuzz_server.url)
    seeded = await _seed(Api(fuzz_gql, await Api.login_admin(fuzz_gql)))
    failures = await asyncio.to_thread(_fuzz, fuzz_server, seeded)
    assert not failures, "\n\n".join(failures[:10]) + f"\n\n({len(failures)} in all)"


# Found by the fuzzer: an offset that pushes a cursor's instant past year 1 or 9999 had no UTC
# form, and PyMongo's OverflowError surfaced as INTERNAL_SERVER_ERROR.
@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_a_cursor_past_the_calendar_is_bad_input(api: Api, instant: str) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    booked = (await api.book(slot["id"], await api.patient())).data["bookAppointment"]
    cursor = base64.urlsafe_b64encode(f"{instant}|{booked['id']}".encode()).decode()
    reply = await api.gql(
        "query($after: String) { appointments(after: $after) { edges { node { id } } } }",
        {"after": cursor},
        api.admin.token,
    )
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "after"

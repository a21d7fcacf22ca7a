"""A small GraphQL-over-HTTP client on httpx, and the calls most tests share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}-{id(_counter) % 10_000}"


class GraphQLFailed(AssertionError):
    pass


@dataclass
class Response:
    body: dict[str, Any]
    status: int

    @property
    def data(self) -> Any:
        if self.body.get("errors"):
            raise GraphQLFailed(f"unexpected errors: {self.body['errors']}")
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        errors = self.body.get("errors")
        assert errors, f"expected an error, got {self.body}"
        return errors[0]

    @property
    def code(self) -> str:
        return str(self.error.get("extensions", {}).get("code"))


class GraphQL:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = await self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        return Response(reply.json(), reply.status_code)


LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken user { id role } }
}"""
REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken tokenType expiresIn user { id email role } }
}"""
CREATE_SPECIALTY = (
    """mutation($input: SpecialtyInput!) { createSpecialty(input: $input) { id name } }"""
)
CREATE_DOCTOR = """mutation($input: DoctorInput!) {
  createDoctor(input: $input) { id name timezone specialty { id } }
}"""
CREATE_SLOT = """mutation($doctorId: ID!, $input: SlotInput!) {
  createSlot(doctorId: $doctorId, input: $input) {
    id date startTime endTime durationMinutes startsAt endsAt state isAvailable isBooked
  }
}"""
LOCK = """mutation($slotId: ID!, $patientId: ID) {
  lockSlot(slotId: $slotId, patientId: $patientId) {
    id state lock { lockedAt expiresAt lockedByMe patient { id } }
  }
}"""
BOOK = """mutation($input: BookAppointmentInput!) {
  bookAppointment(input: $input) {
    id status appointmentDate appointmentTime reasonForVisit
    patient { id } doctor { id } slot { id state isBooked } specialty { id }
  }
}"""


@dataclass
class Person:
    id: str
    token: str
    refresh_token: str
    email: str


@dataclass
class Clinic:
    """A fresh specialty and doctor per test, so tests never see each other's slots."""

    specialty_id: str
    doctor_id: str
    doctor_email: str
    doctor_token: str


def future_day(days: int = 7) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


class Api:
    """The calls tests repeat, on top of GraphQL."""

    def __init__(self, gql: GraphQL, admin: Person) -> None:
        self.gql = gql
        self.admin = admin

    @staticmethod
    async def login_admin(gql: GraphQL) -> Person:
        data = (await gql(LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).data["login"]
        return Person(data["user"]["id"], data["accessToken"], data["refreshToken"], ADMIN_EMAIL)

    async def patient(self, name: str = "Patient") -> Person:
        email = f"{unique('patient')}@example.com"
        reply = await self.gql(
            REGISTER, {"input": {"email": email, "password": "patient-password", "name": name}}
        )
        data = reply.data["register"]
        return Person(data["user"]["id"], data["accessToken"], data["refreshToken"], email)

    async def clinic(self, timezone: str = "UTC") -> Clinic:
        specialty = (
            await self.gql(
                CREATE_SPECIALTY, {"input": {"name": unique("Specialty ")}}, self.admin.token
            )
        ).data["createSpecialty"]
        email = f"{unique('doctor')}@example.com"
        doctor = (
            await self.gql(
                CREATE_DOCTOR,
                {
                    "input": {
                        "name": unique("Dr. "),
                        "email": email,
                        "specialtyId": specialty["id"],
                        "licenseNumber": unique("LIC-"),
                        "consultationFee": 300,
                        "timezone": timezone,
                        "password": "doctor-password",
                    }
                },
                self.admin.token,
            )
        ).data["createDoctor"]
        login = (await self.gql(LOGIN, {"email": email, "password": "doctor-password"})).data
        return Clinic(specialty["id"], doctor["id"], email, login["login"]["accessToken"])

    async def slot(
        self, clinic: Clinic, start: str = "09:00", end: str = "09:30", day: str | None = None
    ) -> dict[str, Any]:
        reply = await self.gql(
            CREATE_SLOT,
            {
                "doctorId": clinic.doctor_id,
                "input": {"date": day or future_day(), "startTime": start, "endTime": end},
            },
            self.admin.token,
        )
        return dict(reply.data["createSlot"])

    async def lock(self, slot_id: str, who: Person, patient_id: str | None = None) -> Response:
        return await self.gql(LOCK, {"slotId": slot_id, "patientId": patient_id}, who.token)

    async def book(self, slot_id: str, who: Person, **extra: Any) -> Response:
        return await self.gql(BOOK, {"input": {"slotId": slot_id, **extra}}, who.token)

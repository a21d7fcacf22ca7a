"""Data for the browser tests, made through the GraphQL API as a clinic would make it, the
sign-in of a browser context (the web client keeps its session in localStorage), and opening
the patient portal on a doctor's day."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.graphql_client import CREATE_SLOT, GraphQL, unique
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "test-results" / "browser"

# The client's localStorage key and session shape: web/src/lib/session.ts.
SESSION_STORAGE_KEY = "aayulink.session"

AUTH_FIELDS = """accessToken refreshToken expiresIn
  user { id email name role doctor { id name timezone } }"""
LOGIN = f"""mutation($email: String!, $password: String!) {{
  login(email: $email, password: $password) {{ {AUTH_FIELDS} }}
}}"""
REGISTER = f"""mutation($input: RegisterInput!) {{
  register(input: $input) {{ {AUTH_FIELDS} }}
}}"""
CREATE_SPECIALTY = """mutation($input: SpecialtyInput!) {
  createSpecialty(input: $input) { id name }
}"""
CREATE_DOCTOR = """mutation($input: DoctorInput!) {
  createDoctor(input: $input) { id name timezone consultationFee specialty { id name } }
}"""

PATIENT_PASSWORD = "patient-password"
DOCTOR_PASSWORD = "doctor-password"


@dataclass
class WebUser:
    """A signed-in user: its tokens, and the session JSON the web client stores."""

    id: str
    email: str
    name: str
    role: str
    password: str
    token: str
    refresh_token: str
    payload: dict[str, Any] = field(repr=False)

    def session_json(self) -> str:
        expires_at_ms = int((datetime.now(UTC).timestamp() + self.payload["expiresIn"]) * 1000)
        return json.dumps(
            {
                "accessToken": self.token,
                "refreshToken": self.refresh_token,
                "expiresAt": expires_at_ms,
                "user": self.payload["user"],
            }
        )


@dataclass
class WebClinic:
    """A fresh specialty and doctor (with its DOCTOR login) per test."""

    specialty_id: str
    specialty_name: str
    doctor_id: str
    doctor_name: str
    timezone: str
    fee: float
    doctor: WebUser


def _user(payload: dict[str, Any], password: str) -> WebUser:
    user = payload["user"]
    return WebUser(
        id=user["id"],
        email=user["email"],
        name=user["name"],
        role=user["role"],
        password=password,
        token=payload["accessToken"],
        refresh_token=payload["refreshToken"],
        payload=payload,
    )


async def login(gql: GraphQL, email: str, password: str) -> WebUser:
    reply = await gql(LOGIN, {"email": email, "password": password})
    return _user(reply.data["login"], password)


async def login_admin(gql: GraphQL) -> WebUser:
    return await login(gql, ADMIN_EMAIL, ADMIN_PASSWORD)


async def make_patient(
    gql: GraphQL,
    name: str = "Asha Patient",
    phone: str | None = None,
    timezone: str | None = None,
) -> WebUser:
    """A registered patient; `timezone` is its `User.timezone` (the clinic's when None)."""
    email = f"{unique('web-patient')}@example.com"
    patient = {"email": email, "password": PATIENT_PASSWORD, "name": name, "timezone": timezone}
    reply = await gql(REGISTER, {"input": patient | ({"phone": phone} if phone else {})})
    return _user(reply.data["register"], PATIENT_PASSWORD)


async def make_clinic(
    gql: GraphQL,
    admin: WebUser,
    timezone: str = "Asia/Kolkata",
    fee: float = 500,
    specialty: str | None = None,
) -> WebClinic:
    created = await gql(
        CREATE_SPECIALTY, {"input": {"name": specialty or unique("Cardiology ")}}, admin.token
    )
    spec = created.data["createSpecialty"]
    email = f"{unique('web-doctor')}@example.com"
    doctor = (
        await gql(
            CREATE_DOCTOR,
            {
                "input": {
                    "name": unique("Dr. Mehta "),
                    "email": email,
                    "specialtyId": spec["id"],
                    "licenseNumber": unique("LIC-"),
                    "consultationFee": fee,
                    "timezone": timezone,
                    "password": DOCTOR_PASSWORD,
                }
            },
            admin.token,
        )
    ).data["createDoctor"]
    return WebClinic(
        specialty_id=spec["id"],
        specialty_name=spec["name"],
        doctor_id=doctor["id"],
        doctor_name=doctor["name"],
        timezone=timezone,
        fee=fee,
        doctor=await login(gql, email, DOCTOR_PASSWORD),
    )


def today_in(zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


def upcoming_times(zone: str, count: int, minutes: int = 30) -> list[tuple[str, str]]:
    """Up to `count` slot times later today in `zone`, starting an hour from now (so they stay
    bookable through a test); fewer, or none, late in the day."""
    now = datetime.now(UTC).astimezone(ZoneInfo(zone))
    start = now.replace(second=0, microsecond=0) + timedelta(hours=1)
    start += timedelta(minutes=(-start.minute) % minutes)
    times: list[tuple[str, str]] = []
    while len(times) < count:
        end = start + timedelta(minutes=minutes)
        if end.date() != now.date():
            break
        times.append((start.strftime("%H:%M"), end.strftime("%H:%M")))
        start = end
    return times


def day_times(count: int, first: str = "09:00", minutes: int = 30) -> list[tuple[str, str]]:
    hour, minute = (int(part) for part in first.split(":"))
    start = datetime(2000, 1, 1, hour, minute)
    return [
        (
            (start + timedelta(minutes=minutes * i)).strftime("%H:%M"),
            (start + timedelta(minutes=minutes * (i + 1))).strftime("%H:%M"),
        )
        for i in range(count)
    ]


async def make_slots(
    gql: GraphQL, admin: WebUser, clinic: WebClinic, day: date, times: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """One slot per (start, end) on `day` (the doctor's calendar date), ordered by start."""
    replies = await asyncio.gather(
        *(
            gql(
                CREATE_SLOT,
                {
                    "doctorId": clinic.doctor_id,
                    "input": {"date": day.isoformat(), "startTime": start, "endTime": end},
                },
                admin.token,
            )
            for start, end in times
        )
    )
    return sorted((dict(r.data["createSlot"]) for r in replies), key=lambda s: s["startTime"])


async def slots_today_and_tomorrow(
    gql: GraphQL, admin: WebUser, clinic: WebClinic, per_day: int = 4
) -> dict[str, list[dict[str, Any]]]:
    """`{"today": [...], "tomorrow": [...]}` in the doctor's zone. Today's list may be short or
    empty late in the day; tomorrow's always has `per_day` slots from 09:00."""
    today = today_in(clinic.timezone)
    today_slots, tomorrow_slots = await asyncio.gather(
        make_slots(gql, admin, clinic, today, upcoming_times(clinic.timezone, per_day)),
        make_slots(gql, admin, clinic, today + timedelta(days=1), day_times(per_day)),
    )
    return {"today": today_slots, "tomorrow": tomorrow_slots}


async def clinic_day(
    gql: GraphQL,
    admin: WebUser,
    count: int = 4,
    first: str = "09:00",
    timezone: str = "Asia/Kolkata",
) -> tuple[WebClinic, date, list[dict[str, Any]]]:
    """A fresh doctor with `count` half-hour slots from `first` tomorrow (its zone), by start."""
    clinic = await make_clinic(gql, admin, timezone=timezone)
    day = today_in(clinic.timezone) + timedelta(days=1)
    return clinic, day, await make_slots(gql, admin, clinic, day, day_times(count, first))


def storage_state(base_url: str, user: WebUser) -> dict[str, Any]:
    """A Playwright storage_state that starts a context signed in as `user`."""
    return {
        "cookies": [],
        "origins": [
            {
                "origin": base_url,
                "localStorage": [{"name": SESSION_STORAGE_KEY, "value": user.session_json()}],
            }
        ],
    }


async def sign_in(context: BrowserContext, user: WebUser) -> None:
    """Sign an existing context in from its next page load on (only where no session is kept,
    so a token the page rotated is not overwritten by a reload)."""
    key = json.dumps(SESSION_STORAGE_KEY)
    value = json.dumps(user.session_json())
    await context.add_init_script(
        f"if (!window.localStorage.getItem({key})) window.localStorage.setItem({key}, {value});"
    )


def patient_link(base_url: str, doctor_id: str, day: date | str) -> str:
    """The patient portal's deep link (web/src/lib/routes.ts patientLink)."""
    return f"{base_url}/#/patient?doctor={doctor_id}&date={day}"


def slot_cell(page: Page, slot_id: str) -> Locator:
    """A time on the patient portal's day grid."""
    return page.locator(f'[data-testid="slot-cell"][data-slot-id="{slot_id}"]')


async def open_portal_day(page: Page, base_url: str, clinic: WebClinic, day: date) -> Locator:
    """The portal's deep link, then its day grid drawn with data and its subscription's socket
    up; returns the grid."""
    await page.goto(patient_link(base_url, clinic.doctor_id, day))
    grid = page.get_by_test_id("day-grid")
    await expect(grid).to_have_attribute("data-ready", "true")
    return grid


def screenshot_path(test_name: str, label: str = "") -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
    suffix = f"-{re.sub(r'[^A-Za-z0-9_.-]+', '-', label)}" if label else ""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{safe}{suffix}.png"


async def save_screenshot(page: Page, test_name: str, label: str = "") -> Path:
    path = screenshot_path(test_name, label)
    await page.screenshot(path=str(path), full_page=True)
    return path

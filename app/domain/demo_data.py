"""Idempotent demo data: specialties, doctors with weekly schedules, and demo logins.

The doctors declare schedules (several zones, a lunch break, a day off) and the slot
generator makes their slots, exactly as a clinic would through `setSchedule`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from time import perf_counter

from app.core.clock import utcnow
from app.core.errors import Conflict
from app.domain.auth.accounts import create_user
from app.domain.auth.actor import Actor
from app.domain.scheduling.regeneration import doctor_today
from app.domain.scheduling.schedule_rules import ScheduleFields
from app.domain.scheduling.schedules import set_date_override, set_schedule
from app.models import Doctor, Role, Specialty, TimeRange, User, Weekday, WeeklyHours

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

DEMO_ADMIN = ("admin@example.com", "admin-demo-pass")
DEMO_DOCTOR = ("doctor@example.com", "doctor-demo-pass")
DEMO_PATIENT = ("patient@example.com", "patient-demo-pass")

SPECIALTIES = {
    "Cardiology": "Heart and cardiovascular system",
    "Dermatology": "Skin and hair conditions",
    "Pediatrics": "Children's health",
    "General Medicine": "Primary care and check-ups",
}
WEEKDAYS = list(Weekday)[:5]
FIRST_START_DAYS = 14


@dataclass(frozen=True)
class DemoDoctor:
    name: str
    email: str
    specialty: str
    license: str
    fee: float
    timezone: str
    slot_minutes: int
    hours: list[tuple[str, str]]
    days: list[Weekday] = field(default_factory=lambda: WEEKDAYS)
    buffer_minutes: int = 0
    day_off_in_days: int | None = None  # a date override with no hours, this many days out

    def schedule(self) -> ScheduleFields:
        ranges = [TimeRange(start=start, end=end) for start, end in self.hours]
        return ScheduleFields(
            slot_minutes=self.slot_minutes,
            buffer_minutes=self.buffer_minutes,
            weekly=[WeeklyHours(weekday=day, ranges=ranges) for day in self.days],
        )


DOCTORS = [
    DemoDoctor(
        "Dr. John Smith",
        DEMO_DOCTOR[0],
        "Cardiology",
        "LIC-100001",
        500,
        "Asia/Kolkata",
        30,
        [("09:00", "13:00"), ("14:00", "17:00")],  # a lunch break
    ),
    DemoDoctor(
        "Dr. Jane Doe",
        "jane.doe@example.com",
        "Dermatology",
        "LIC-100002",
        400,
        "Asia/Kolkata",
        20,
        [("10:00", "14:00")],
        days=[*WEEKDAYS, Weekday.SATURDAY],
        buffer_minutes=10,
        day_off_in_days=9,
    ),
    DemoDoctor(
        "Dr. Asha Rao",
        "asha.rao@example.com",
        "Pediatrics",
        "LIC-100003",
        350,
        "Asia/Kolkata",
        15,
        [("08:30", "12:30")],
    ),
    DemoDoctor(
        "Dr. Omar Haddad",
        "omar.haddad@example.com",
        "Cardiology",
        "LIC-100004",
        650,
        "Europe/London",
        45,
        [("09:00", "17:00")],
        days=WEEKDAYS[:4],
    ),
    DemoDoctor(
        "Dr. Mei Lin",
        "mei.lin@example.com",
        "General Medicine",
        "LIC-100005",
        250,
        "UTC",
        20,
        [("07:00", "11:00")],
        days=list(Weekday),
    ),
    DemoDoctor(
        "Dr. Carlos Vega",
        "carlos.vega@example.com",
        "General Medicine",
        "LIC-100006",
        300,
        "America/New_York",
        30,
        [("08:00", "12:00"), ("13:00", "16:00")],
    ),
]


async def _specialty(name: str, description: str) -> Specialty:
    found = await Specialty.find_one(Specialty.name_key == name.casefold())
    if found is None:
        found = Specialty(name=name, name_key=name.casefold(), description=description)
        await found.insert()
    return found


async def _doctor(demo: DemoDoctor, specialty: Specialty) -> Doctor:
    found = await Doctor.find_one(Doctor.email == demo.email)
    if found is None:
        found = Doctor(
            name=demo.name,
            email=demo.email,
            specialty_id=specialty.id,
            license_number=demo.license,
            consultation_fee=demo.fee,
            timezone=demo.timezone,
        )
        await found.insert()
    return found


async def _login(
    email: str, password: str, name: str, role: Role, doctor: Doctor | None
) -> User | None:
    found = await User.find_one(User.email == email)
    if found is not None:
        return found
    with contextlib.suppress(Conflict):
        return await create_user(
            email, password, name, role=role, doctor_id=doctor.id if doctor else None
        )
    return await User.find_one(User.email == email)


def _log_progress(line: str) -> None:
    log.info("seed: %s", line)


async def seed_demo_data(progress: Progress = _log_progress, first_days: int | None = None) -> int:
    """Returns how many slots were added; running it again adds only what is missing.

    `first_days`: generate only that many days of slots now and let the running server's
    horizon roll-forward make the rest (what a first `serve` does, to answer quickly).
    """
    started = perf_counter()
    progress(f"specialties: {len(SPECIALTIES)}")
    specialties = {name: await _specialty(name, desc) for name, desc in SPECIALTIES.items()}
    doctors = [await _doctor(d, specialties[d.specialty]) for d in DOCTORS]
    progress(f"doctors: {len(doctors)}")
    admin = await _login(*DEMO_ADMIN, "Demo Admin", Role.ADMIN, None)
    await _login(*DEMO_DOCTOR, DOCTORS[0].name, Role.DOCTOR, doctors[0])
    await _login(*DEMO_PATIENT, "Demo Patient", Role.PATIENT, None)
    progress("logins: admin, doctor, patient")
    assert admin is not None and admin.id is not None
    actor = Actor(user_id=admin.id, role=Role.ADMIN)
    added = 0
    for number, (demo, doctor) in enumerate(zip(DOCTORS, doctors, strict=True), start=1):
        if doctor.schedule is not None:  # a clinic may have changed it since: leave it be
            progress(f"schedule {number}/{len(doctors)}: {demo.name} already has one")
            continue
        change = await set_schedule(actor, str(doctor.id), demo.schedule(), first_days)
        added += change.slots_added
        if demo.day_off_in_days is not None:
            day_off = doctor_today(doctor, utcnow()) + timedelta(days=demo.day_off_in_days)
            off = await set_date_override(actor, str(doctor.id), day_off, [], "Conference")
            added += off.slots_added - off.slots_removed
        progress(
            f"schedule {number}/{len(doctors)}: {demo.name} ({demo.timezone}), "
            f"{change.slots_added} slots through {change.horizon_end}"
        )
    progress(f"demo data ready: {added} slots added in {perf_counter() - started:.1f} s")
    return added


async def seed_if_empty(progress: Progress = _log_progress) -> int:
    """The first start of a development store gets demo data; later starts leave it be.

    Two weeks of slots are made before the server answers; the API's housekeeping rolls the
    schedules forward to the full horizon right after start-up.
    """
    if await Specialty.find_one() is not None:
        return 0
    return await seed_demo_data(progress, first_days=FIRST_START_DAYS)

"""Idempotent demo data: specialties, doctors, two weeks of slots, and demo logins."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import date, time, timedelta
from time import perf_counter

from pymongo.errors import BulkWriteError

from app.domain import validation
from app.domain.auth.accounts import create_user
from app.domain.clock import utcnow
from app.domain.errors import Conflict
from app.models import Doctor, Role, Slot, Specialty, User

log = logging.getLogger(__name__)

DEMO_ADMIN = ("admin@example.com", "admin-demo-pass")
DEMO_DOCTOR = ("doctor@example.com", "doctor-demo-pass")
DEMO_PATIENT = ("patient@example.com", "patient-demo-pass")

SPECIALTIES = {
    "Cardiology": "Heart and cardiovascular system",
    "Dermatology": "Skin and hair conditions",
    "Pediatrics": "Children's health",
    "General Medicine": "Primary care and check-ups",
}


@dataclass(frozen=True)
class DemoDoctor:
    name: str
    email: str
    specialty: str
    license: str
    fee: float
    timezone: str


DOCTORS = [
    DemoDoctor("Dr. John Smith", DEMO_DOCTOR[0], "Cardiology", "LIC-100001", 500, "Asia/Kolkata"),
    DemoDoctor(
        "Dr. Jane Doe", "jane.doe@example.com", "Dermatology", "LIC-100002", 400, "Asia/Kolkata"
    ),
    DemoDoctor(
        "Dr. Asha Rao", "asha.rao@example.com", "Pediatrics", "LIC-100003", 350, "Asia/Kolkata"
    ),
    DemoDoctor(
        "Dr. Omar Haddad",
        "omar.haddad@example.com",
        "Cardiology",
        "LIC-100004",
        650,
        "Europe/London",
    ),
    DemoDoctor("Dr. Mei Lin", "mei.lin@example.com", "General Medicine", "LIC-100005", 250, "UTC"),
    DemoDoctor(
        "Dr. Carlos Vega",
        "carlos.vega@example.com",
        "General Medicine",
        "LIC-100006",
        300,
        "America/New_York",
    ),
]
WORKING_BLOCKS = [(time(9, 0), time(12, 0)), (time(14, 0), time(17, 0))]
SLOT_MINUTES = 30
DAYS = 14


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


def _slots_for(doctor: Doctor, first_day: date) -> list[Slot]:
    now = utcnow()
    slots: list[Slot] = []
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        for block_start, block_end in WORKING_BLOCKS:
            minute = block_start.hour * 60 + block_start.minute
            while minute + SLOT_MINUTES <= block_end.hour * 60 + block_end.minute:
                starts = time(minute // 60, minute % 60)
                ends_minute = minute + SLOT_MINUTES
                ends = time(ends_minute // 60, ends_minute % 60)
                starts_at = validation.local_instant(day, starts, doctor.timezone, "startTime")
                if starts_at > now:
                    slots.append(
                        Slot(
                            doctor_id=doctor.id,
                            specialty_id=doctor.specialty_id,
                            starts_at=starts_at,
                            ends_at=validation.local_instant(day, ends, doctor.timezone, "endTime"),
                            date=day.isoformat(),
                            start_time=starts.strftime("%H:%M"),
                            end_time=ends.strftime("%H:%M"),
                            duration_minutes=SLOT_MINUTES,
                        )
                    )
                minute = ends_minute
    return slots


async def _login(email: str, password: str, name: str, role: Role, doctor: Doctor | None) -> None:
    if await User.find_one(User.email == email) is not None:
        return
    with contextlib.suppress(Conflict):
        await create_user(email, password, name, role=role, doctor_id=doctor.id if doctor else None)


async def seed_demo_data() -> int:
    """Returns how many slots were added; running it again adds only what is missing."""
    started = perf_counter()
    specialties = {name: await _specialty(name, desc) for name, desc in SPECIALTIES.items()}
    doctors = [await _doctor(d, specialties[d.specialty]) for d in DOCTORS]
    added = 0
    today = utcnow().date()
    collection = Slot.get_pymongo_collection()
    for doctor in doctors:
        docs = [s.model_dump(by_alias=True, exclude={"id"}) for s in _slots_for(doctor, today)]
        if not docs:
            continue
        try:
            result = await collection.insert_many(docs, ordered=False)
            added += len(result.inserted_ids)
        except BulkWriteError as exc:  # slots already there: the unique index skips them
            added += exc.details.get("nInserted", 0)
    await _login(*DEMO_ADMIN, "Demo Admin", Role.ADMIN, None)
    await _login(*DEMO_DOCTOR, DOCTORS[0].name, Role.DOCTOR, doctors[0])
    await _login(*DEMO_PATIENT, "Demo Patient", Role.PATIENT, None)
    log.info("demo data ready: %d slots added in %.1f s", added, perf_counter() - started)
    return added


async def seed_if_empty() -> int:
    """The first start of a development store gets demo data; later starts leave it be."""
    if await Specialty.find_one() is not None:
        return 0
    return await seed_demo_data()

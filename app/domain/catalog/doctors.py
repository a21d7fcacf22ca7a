"""Doctors: created and edited by admins, found by patients by specialty and date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields

from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.domain import validation
from app.domain.audit.recorder import Change, record
from app.domain.auth.accounts import create_user, role_granted
from app.domain.auth.actor import Actor, require_role
from app.domain.catalog.specialties import get_specialty
from app.domain.read_model import announce_stale
from app.models import Doctor, Role, Slot
from app.settings import get_settings
from app.store.chunks import gather_in


@dataclass
class DoctorFields:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    specialty_id: str | None = None
    license_number: str | None = None
    consultation_fee: float | None = None
    timezone: str | None = None
    profile_image: str | None = None
    is_active: bool | None = None
    min_notice_minutes: int | None = None
    max_days_ahead: int | None = None


AUDITED = {field.name for field in dataclass_fields(DoctorFields)}
MIN_NOTICE_MAX = 525_600  # a year, in minutes
MAX_DAYS_AHEAD_MAX = 730


def duplicate_field(exc: DuplicateKeyError) -> str:
    detail = str(exc.details or exc)
    return "licenseNumber" if "license" in detail else "email"


async def get_doctor(doctor_id: str, field: str = "id") -> Doctor:
    found = await Doctor.get(validation.object_id(doctor_id, field))
    if found is None:
        raise NotFound("Doctor", field=field)
    return found


async def list_doctors(
    specialty_id: str | None, bookable_slots: list[Slot] | None, include_inactive: bool
) -> list[Doctor]:
    """Doctors of a specialty; with `bookable_slots` (a date was asked), only those with one."""
    query: dict[str, object] = {}
    if not include_inactive:
        query["is_active"] = True
    if bookable_slots is not None:
        # The slots were already chosen by specialty: a slot's specialty is what patients search.
        ids = [slot.doctor_id for slot in bookable_slots]
        return by_name(
            await gather_in(ids, lambda some: Doctor.find({"_id": some, **query}).to_list())
        )
    if specialty_id is not None:
        query["specialty_id"] = validation.object_id(specialty_id, "specialtyId")
    return by_name(await Doctor.find(query).to_list())


def by_name(doctors: Iterable[Doctor]) -> list[Doctor]:
    """Alphabetical, sorted here rather than by the store; namesakes keep the order of their ids."""
    return sorted(doctors, key=lambda doctor: (doctor.name, str(doctor.id)))


def check_policy(fields: DoctorFields) -> None:
    """Policy numbers are plain input: refused before anything is read or written."""
    if fields.min_notice_minutes is not None:
        validation.bounded_int(fields.min_notice_minutes, "minNoticeMinutes", 0, MIN_NOTICE_MAX)
    if fields.max_days_ahead is not None:
        validation.bounded_int(fields.max_days_ahead, "maxDaysAhead", 1, MAX_DAYS_AHEAD_MAX)


async def apply_fields(doctor: Doctor, fields: DoctorFields) -> None:
    if fields.name is not None:
        doctor.name = validation.text(fields.name, "name", validation.NAME_MAX)
    if fields.email is not None:
        doctor.email = validation.email(fields.email)
    if fields.phone is not None:
        doctor.phone = validation.phone(fields.phone)
    if fields.specialty_id is not None:
        doctor.specialty_id = (await get_specialty(fields.specialty_id, "specialtyId")).id  # type: ignore[assignment]
    if fields.license_number is not None:
        doctor.license_number = validation.text(fields.license_number, "licenseNumber", 64)
    if fields.consultation_fee is not None:
        doctor.consultation_fee = validation.non_negative_fee(fields.consultation_fee)
    if fields.timezone is not None:
        doctor.timezone = validation.timezone(fields.timezone)
    if fields.profile_image is not None:
        doctor.profile_image = validation.optional_text(fields.profile_image, "profileImage", 2048)
    if fields.is_active is not None:
        doctor.is_active = fields.is_active
    check_policy(fields)
    if fields.min_notice_minutes is not None:
        doctor.min_notice_minutes = fields.min_notice_minutes
    if fields.max_days_ahead is not None:
        doctor.max_days_ahead = fields.max_days_ahead


async def create_doctor(actor: Actor | None, fields: DoctorFields, password: str | None) -> Doctor:
    """Creates the doctor and, when a password is given, its DOCTOR login."""
    caller = require_role(actor, Role.ADMIN)
    check_policy(fields)
    if password is not None:
        validation.password(password)
    specialty = await get_specialty(fields.specialty_id or "", "specialtyId")
    now = utcnow()
    doctor = Doctor(
        name="",
        email="",
        specialty_id=specialty.id,
        license_number="",
        timezone=get_settings().clinic_timezone,
        created_at=now,
        updated_at=now,
    )
    await apply_fields(doctor, DoctorFields(**{**fields.__dict__, "specialty_id": None}))
    try:
        await doctor.insert()
    except DuplicateKeyError as exc:
        field = duplicate_field(exc)
        raise Conflict(f"A doctor with this {field} already exists", field=field) from exc
    assert doctor.id is not None
    audit = [
        Change("doctor.created", "doctor", doctor.id, after=doctor.model_dump(include=AUDITED))
    ]
    if password is not None:
        try:
            login = await create_user(
                doctor.email, password, doctor.name, doctor.phone, Role.DOCTOR, doctor.id
            )
        except Conflict:
            await doctor.delete()
            raise
        audit.append(role_granted(login))
    await record(caller, now, *audit)
    await announce_stale(catalog=True)
    return doctor

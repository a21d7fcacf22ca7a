"""Walk-in patients registered at the front desk: no password, so they cannot sign in until
they are given an email and a password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.core.clock import utcnow
from app.core.errors import BadUserInput
from app.domain import validation
from app.domain.audit.recorder import record
from app.domain.auth.accounts import insert_user, role_granted
from app.domain.auth.actor import Actor, require_role
from app.domain.patients import phones
from app.models import Role, User


@dataclass(frozen=True)
class PatientFields:
    name: str
    phone: str | None = None
    email: str | None = None
    timezone: str | None = None
    date_of_birth: date | None = None


async def register_patient(actor: Actor | None, fields: PatientFields) -> User:
    """ADMIN only; a phone or an email is required, so the clinic can reach the patient."""
    caller = require_role(actor, Role.ADMIN)
    name = validation.text(fields.name, "name", validation.NAME_MAX)
    phone = phones.parse(fields.phone)
    given_email = (fields.email or "").strip()
    email = validation.email(given_email) if given_email else None
    if phone is None and email is None:
        raise BadUserInput("A phone or an email is required", field="phone")
    if fields.timezone is not None:
        validation.timezone(fields.timezone)
    born = None
    if fields.date_of_birth is not None:
        validation.calendar_date(fields.date_of_birth, "dateOfBirth")
        if fields.date_of_birth > utcnow().date():
            raise BadUserInput("dateOfBirth is in the future", field="dateOfBirth")
        born = fields.date_of_birth.isoformat()
    patient = await insert_user(
        User(name=name, phone=phone, email=email, role=Role.PATIENT, date_of_birth=born)
    )
    await record(caller, patient.created_at, role_granted(patient))
    return patient

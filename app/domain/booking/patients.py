"""Whose name a booking or lock is in: the calling patient, or a patient an admin names."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.core.errors import BadUserInput, Forbidden, NotFound
from app.domain import validation
from app.domain.auth.actor import Actor, require_role
from app.models import Role, User


async def acting_patient(actor: Actor | None, patient_id: str | None) -> PydanticObjectId:
    found = require_role(actor, Role.PATIENT, Role.ADMIN)
    if found.role is Role.PATIENT:
        if (
            patient_id is not None
            and validation.object_id(patient_id, "patientId") != found.user_id
        ):
            raise Forbidden("Patients act only for themselves")
        return found.user_id
    if patient_id is None:
        raise BadUserInput("patientId is required when an admin acts for a patient", "patientId")
    patient = await User.get(validation.object_id(patient_id, "patientId"))
    if patient is None or patient.role is not Role.PATIENT:
        raise NotFound("Patient", field="patientId")
    return patient.id  # type: ignore[return-value]

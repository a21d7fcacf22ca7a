"""A doctor as the read model knows it, when it may answer (no store round trip; an edit
drops the doctor there in every process), else as the store has it."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.domain.read_model import serving_model
from app.models import Doctor


async def doctor_now(doctor_id: PydanticObjectId) -> Doctor | None:
    model = serving_model()
    if model is not None:
        (doctor,) = await model.doctors_by_id([doctor_id])
        return doctor
    return await Doctor.get(doctor_id)

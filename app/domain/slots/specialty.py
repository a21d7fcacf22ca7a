"""A slot's specialty: its own when it was made for another one (createSlot's specialtyId),
else its doctor's, read through the doctor.

So moving a doctor to another specialty moves its unbooked slots without writing them: the
move writes only its booked future slots, which keep the specialty their appointments were
booked in, and slots stored before with the doctor's specialty spelled out
(app/domain/doctor_changes.py).
"""

from __future__ import annotations

from beanie import PydanticObjectId

from app.domain.read_model.doctors import doctor_now
from app.models import Doctor, Slot


def own_specialty(requested: PydanticObjectId | None, doctor: Doctor) -> PydanticObjectId | None:
    """What a new slot stores: nothing when it is for the doctor's own specialty."""
    return None if requested is None or requested == doctor.specialty_id else requested


def specialty_of(slot: Slot, doctor: Doctor) -> PydanticObjectId:
    return slot.specialty_id if slot.specialty_id is not None else doctor.specialty_id


async def slot_specialty(slot: Slot) -> PydanticObjectId | None:
    """The specialty the slot is booked in now; None only if its doctor is gone."""
    if slot.specialty_id is not None:
        return slot.specialty_id
    doctor = await doctor_now(slot.doctor_id)
    return None if doctor is None else doctor.specialty_id

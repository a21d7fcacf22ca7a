"""Reads, for one sender batch, everything its notifications mention: a few reads a batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from beanie import Document, PydanticObjectId

from app.domain.notifications.recipients import zone_of
from app.domain.notifications.rendering import Facts
from app.models import Appointment, Doctor, EmergencyRequest, Notification, Specialty, User
from app.settings import get_settings
from app.store import lanes
from app.store.chunks import gather_in


async def by_id[D: Document](model: type[D], ids: Iterable[Any]) -> dict[PydanticObjectId, D]:
    """One `$in` read per chunk of ids, which the store reads by key (the embedded one through
    app/store/engine_fixes/id_lookup.py): one read per id cost a round trip each."""
    wanted = [i for i in ids if i is not None]
    found = await gather_in(wanted, lambda some: lanes.find(model, {"_id": some}))
    return {doc.id: doc for doc in found if doc.id is not None}


async def gather_facts(notifications: list[Notification]) -> dict[PydanticObjectId, Facts]:
    """Each notification's facts, by notification id."""
    appointments = await by_id(Appointment, (n.appointment_id for n in notifications))
    emergencies = await by_id(EmergencyRequest, (n.emergency_id for n in notifications))
    users = await by_id(
        User,
        [n.recipient_id for n in notifications]
        + [a.patient_id for a in appointments.values()]
        + [e.patient_id for e in emergencies.values()],
    )
    doctors = await by_id(
        Doctor,
        [a.doctor_id for a in appointments.values()]
        + [u.doctor_id for u in users.values() if u.doctor_id is not None],
    )
    specialties = await by_id(Specialty, (a.specialty_id for a in appointments.values()))

    def _zone(user: User) -> str | None:
        doctor = doctors.get(user.doctor_id) if user.doctor_id is not None else None
        return doctor.timezone if doctor is not None else None

    facts = {}
    clinic_zone = get_settings().clinic_timezone
    for note in notifications:
        assert note.id is not None
        appointment = appointments.get(note.appointment_id)  # type: ignore[arg-type]
        emergency = emergencies.get(note.emergency_id)  # type: ignore[arg-type]
        about = appointment or emergency
        patient = users.get(about.patient_id) if about is not None else None
        recipient = users.get(note.recipient_id) if note.recipient_id else None
        # A webhook speaks for the patient: its text is in the patient's zone.
        reader = recipient or patient
        facts[note.id] = Facts(
            notification=note,
            recipient=recipient,
            recipient_zone=clinic_zone if reader is None else zone_of(reader, _zone(reader)),
            appointment=appointment,
            patient=patient,
            doctor=doctors.get(appointment.doctor_id) if appointment else None,
            specialty=specialties.get(appointment.specialty_id) if appointment else None,
            emergency=emergency,
        )
    return facts

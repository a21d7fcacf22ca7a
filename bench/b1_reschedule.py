"""B1 with rescheduling: half the patients move their appointment into the rush's slots
while the other half book the same slots straight, all at once, on two API processes.

Checked in the store afterwards: no slot holds two active appointments, none of the moved
appointments is lost (each is still active, on its old slot or on a new one), and no slot
is left BOOKED without an active appointment.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.core.clock import utcnow
from app.models import Appointment
from bench import data
from bench.common import Sizes, error_code, future_day, graphql, http_client, latency_summary

BOOK = "mutation($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }"
RESCHEDULE = "mutation($a: ID!, $s: ID!) { rescheduleAppointment(id: $a, slotId: $s) { id } }"


@dataclass
class Move:
    rescheduling: bool
    slot_index: int
    won: bool
    code: str | None
    seconds: float


async def _booked_appointments(
    database: AsyncDatabase[data.Doc],
    doctor: Any,
    specialty: Any,
    patients: list[data.Patient],
    day_offset: int,
) -> list[ObjectId]:
    """One booked slot and its appointment per patient, written straight into the store."""
    docs = data.slot_docs(doctor, specialty, future_day(day_offset), len(patients), minutes=10)
    for doc in docs:
        doc["is_booked"] = True
    slot_ids = data.object_ids(await data.insert(database, "slots", docs, "B1 origin slots"))
    now = utcnow()
    appointments = [
        Appointment(
            patient_id=ObjectId(patient.id),
            doctor_id=doctor,
            slot_id=slot_id,
            specialty_id=specialty,
            appointment_date=doc["date"],
            appointment_time=doc["start_time"],
            end_time=doc["end_time"],
            starts_at=doc["starts_at"],
            ends_at=doc["ends_at"],
            created_at=now,
            updated_at=now,
        ).model_dump(by_alias=True, exclude={"id"})
        for patient, slot_id, doc in zip(patients, slot_ids, docs, strict=True)
    ]
    ids = await data.insert(database, "appointments", appointments, "B1 origin appointments")
    return data.object_ids(ids)


async def reschedule_rush(
    database: AsyncDatabase[data.Doc],
    doctor: Any,
    specialty: Any,
    urls: list[str],
    sizes: Sizes,
) -> dict[str, Any]:
    half = sizes.b1_patients // 2
    docs = data.slot_docs(doctor, specialty, future_day(15), sizes.b1_slots, minutes=15)
    targets = data.object_ids(await data.insert(database, "slots", docs, "B1 target slots"))
    movers = await data.add_patients(database, half, "B1 rescheduling patients")
    bookers = await data.add_patients(database, sizes.b1_patients - half, "B1 booking patients")
    moved = await _booked_appointments(database, doctor, specialty, movers, 16)
    async with http_client() as http:

        async def attempt(i: int) -> Move:
            rescheduling = i < half
            slot_index = i % len(targets)
            slot_id = str(targets[slot_index])
            url = urls[i % len(urls)]
            started = time.perf_counter()
            if rescheduling:
                variables = {"a": str(moved[i]), "s": slot_id}
                reply = await graphql(http, url, RESCHEDULE, variables, movers[i].token)
            else:
                patient = bookers[i - half]
                reply = await graphql(http, url, BOOK, {"i": {"slotId": slot_id}}, patient.token)
            code = error_code(reply)
            return Move(rescheduling, slot_index, code is None, code, time.perf_counter() - started)

        started = time.perf_counter()
        moves = await asyncio.gather(*(attempt(i) for i in range(sizes.b1_patients)))
        wall = time.perf_counter() - started
    return {
        "patients": sizes.b1_patients,
        "rescheduling": half,
        "slots": len(targets),
        "wall_s": wall,
        "latency": latency_summary([m.seconds for m in moves]),
        "codes": dict(collections.Counter(m.code or "OK" for m in moves)),
        "check": await _check(database, targets, moved, list(moves)),
    }


async def _check(
    database: AsyncDatabase[data.Doc],
    targets: list[ObjectId],
    moved: list[ObjectId],
    moves: list[Move],
) -> dict[str, Any]:
    active = await (
        database["appointments"]
        .find({"slot_id": {"$in": targets}, "status": {"$ne": "CANCELLED"}}, {"slot_id": 1})
        .to_list(None)
    )
    per_slot = collections.Counter(a["slot_id"] for a in active)
    still_active = await database["appointments"].count_documents(
        {"_id": {"$in": moved}, "status": {"$ne": "CANCELLED"}}
    )
    held = {
        a["slot_id"]
        for a in await database["appointments"]
        .find({"status": {"$ne": "CANCELLED"}}, {"slot_id": 1})
        .to_list(None)
    }
    booked = await database["slots"].find({"is_booked": True}, {"_id": 1}).to_list(None)
    orphaned = [s["_id"] for s in booked if s["_id"] not in held]
    wins = sum(1 for m in moves if m.won)
    return {
        "double_booked_slots": sum(1 for n in per_slot.values() if n > 1),
        "appointments_lost": len(moved) - still_active,
        "slots_booked_without_appointment": len(orphaned),
        "reschedules_won": sum(1 for m in moves if m.won and m.rescheduling),
        "bookings_won": sum(1 for m in moves if m.won and not m.rescheduling),
        "target_slots_taken": len(per_slot),
        "replies_match_store": wins == len(active),
    }

"""B1 booking rush: many patients book few slots at once over HTTP on two API processes.

Correctness is checked in the store afterwards (one active appointment per slot, every slot
booked once), and both rushes run again beside 50,000 background slots (and as many
appointments) of other doctors and dates, under the same checks. The floor issues the store
operations one booking needs (the patient's lease pair from app/store/guards.py, the atomic
claim, the overlap read, the appointment insert with its audit entries) with bare PyMongo
at the same concurrency, on its own slots.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from app.core.clock import utcnow
from app.models import ACTIVE_STATUSES, Appointment
from app.models.owed_audit import OwedAudit
from app.store.queries.slots import NO_LOCK, open_for
from bench import data
from bench.b1_reschedule import reschedule_rush
from bench.common import (
    CpuMeter,
    Sizes,
    error_code,
    future_day,
    graphql,
    http_client,
    latency_summary,
    ratio,
)
from bench.roundtrips import count_round_trips
from bench.servers import Store, api_processes

LOCK = "mutation($s: ID!) { lockSlot(slotId: $s) { id } }"
BOOK = "mutation($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }"
WARM = "query($s: ID!) { slot(id: $s) { id state } }"
CATALOGUE = "query($s: ID!, $d: Date!) { doctors(specialtyId: $s, date: $d) { id } }"
VARIANTS = ("lock_then_book", "straight")
LEASE_SECONDS = 10
FLOOR_BOOK_OPS = 5  # lease take, claim, overlap read, insert, lease release
FLOOR_LOCK_OPS = 2  # claim (its audit entry owed on the slot), the patient's live locks
MEMORY_TARGET = 1 / 3  # lock-then-book bookings/s on SQLite against the memory engine


@dataclass
class Attempt:
    slot_index: int
    booked: bool
    code: str | None
    seconds: float


@dataclass
class Lot:
    """The slots and patients of one rush (each rush and each floor gets fresh ones)."""

    slot_ids: list[ObjectId]
    patients: list[data.Patient]


async def _lot(
    database: AsyncDatabase[data.Doc],
    doctor: Any,
    specialty: Any,
    day_offset: int,
    sizes: Sizes,
    label: str,
) -> Lot:
    docs = data.slot_docs(doctor, specialty, future_day(day_offset), sizes.b1_slots, minutes=15)
    ids = data.object_ids(await data.insert(database, "slots", docs, f"B1 {label} slots"))
    patients = await data.add_patients(database, sizes.b1_patients, f"B1 {label} patients")
    return Lot(ids, patients)


async def _rush(
    lot: Lot, urls: list[str], lock_first: bool, meter: CpuMeter
) -> tuple[list[Attempt], float, dict[str, float]]:
    """Every patient at once; patient i wants slot i mod slots, through process i mod 2."""
    async with http_client() as http:

        async def attempt(i: int) -> Attempt:
            patient = lot.patients[i]
            slot_index = i % len(lot.slot_ids)
            slot_id = str(lot.slot_ids[slot_index])
            url = urls[i % len(urls)]
            started = time.perf_counter()
            if lock_first:
                locked = await graphql(http, url, LOCK, {"s": slot_id}, patient.token)
                code = error_code(locked)
                if code is not None:
                    return Attempt(slot_index, False, code, time.perf_counter() - started)
            booked = await graphql(http, url, BOOK, {"i": {"slotId": slot_id}}, patient.token)
            code = error_code(booked)
            return Attempt(slot_index, code is None, code, time.perf_counter() - started)

        # Open connections (and the servers' store pools) first: the rush measures steady state.
        warm = [
            graphql(http, urls[i % len(urls)], WARM, {"s": str(lot.slot_ids[0])})
            for i in range(len(lot.patients))
        ]
        await asyncio.gather(*warm)
        meter.start()
        started = time.perf_counter()
        attempts = await asyncio.gather(*(attempt(i) for i in range(len(lot.patients))))
        wall = time.perf_counter() - started
        return list(attempts), wall, meter.stop()


async def _check(
    database: AsyncDatabase[data.Doc], lot: Lot, attempts: list[Attempt]
) -> dict[str, Any]:
    """What the store holds afterwards: exactly one active appointment per slot, no more.

    One equality read per slot: a `$in` read makes the embedded store scan the collection,
    which beside 50,000 background documents can hold it past PyMongo's heartbeat timeout."""

    async def holders(slot_id: ObjectId) -> list[data.Doc]:
        query = {"slot_id": slot_id, "status": {"$in": ACTIVE_STATUSES}}
        return await database["appointments"].find(query, {"slot_id": 1}).to_list(None)

    async def is_booked(slot_id: ObjectId) -> bool:
        slot = await database["slots"].find_one({"_id": slot_id}, {"is_booked": 1})
        return bool(slot and slot["is_booked"])

    active = [a for found in await _each(holders, lot.slot_ids) for a in found]
    per_slot = collections.Counter(a["slot_id"] for a in active)
    booked = sum(await _each(is_booked, lot.slot_ids))
    wins = collections.Counter(a.slot_index for a in attempts if a.booked)
    twice_in_store = {slot for slot, n in per_slot.items() if n > 1}
    twice_in_replies = {lot.slot_ids[index] for index, n in wins.items() if n > 1}
    double = len(twice_in_store | twice_in_replies)
    expected = len(lot.slot_ids)
    return {
        "expected_bookings": expected,
        "active_appointments": len(active),
        "slots_marked_booked": booked,
        "successful_replies": sum(wins.values()),
        "double_booked_slots": double,
        "correct": len(active) == expected and booked == expected and double == 0,
    }


async def _each[T](read: Callable[[ObjectId], Awaitable[T]], ids: list[ObjectId]) -> list[T]:
    return list(await asyncio.gather(*(read(i) for i in ids)))


def _entry(actor: ObjectId, at: datetime, action: str, entity: ObjectId) -> dict[str, Any]:
    """An audit entry as the app's writes carry it (app/domain/audit/owed.py)."""
    return {"_id": ObjectId(), "at": at, "actor_id": actor, "action": action, "entity_id": entity}


async def _floor(
    database: AsyncDatabase[data.Doc], lot: Lot, lock_first: bool, meter: CpuMeter
) -> tuple[list[Attempt], float, dict[str, float]]:
    """The same store operations as a booking, bare PyMongo, every patient at once."""
    slots, users, appointments = database["slots"], database["users"], database["appointments"]

    async def attempt(i: int) -> Attempt:
        patient = PydanticObjectId(lot.patients[i].id)
        slot_index = i % len(lot.slot_ids)
        slot_id = lot.slot_ids[slot_index]
        started = time.perf_counter()

        def done(booked: bool, code: str | None = None) -> Attempt:
            return Attempt(slot_index, booked, code, time.perf_counter() - started)

        if lock_first:
            now = utcnow()
            lock = {
                "patient_id": patient,
                "locked_at": now,
                "expires_at": now + timedelta(minutes=5),
                "is_active": True,
            }
            entry = _entry(patient, now, "slot.locked", slot_id)
            if (
                await slots.find_one_and_update(
                    {"_id": slot_id, **open_for(patient, now)},
                    {
                        "$set": {
                            "booking_lock": lock,
                            "updated_at": now,
                            "audit_owed.last": entry["_id"],
                        },
                        "$push": {"audit_owed.entries": {"$each": [entry]}},
                        "$min": {"audit_owed.at": now},
                    },
                )
                is None
            ):
                return done(False, "SLOT_LOCKED")
            # lockSlot's other one: the patient's live locks (its limit).
            await (
                slots.find(
                    {
                        "booking_lock.patient_id": patient,
                        "booking_lock.is_active": True,
                        "booking_lock.expires_at": {"$gt": now},
                    },
                    {"_id": 1},
                )
                .limit(3)
                .to_list()
            )
        now, token = utcnow(), ObjectId()
        await users.update_one(
            {"_id": patient, "$or": [{"guard_until": None}, {"guard_until": {"$lte": now}}]},
            {"$set": {"guard_token": token, "guard_until": now + timedelta(seconds=LEASE_SECONDS)}},
        )
        try:
            claimed = await slots.find_one_and_update(
                {"_id": slot_id, **open_for(patient, now)},
                {"$set": {"is_booked": True, "booking_lock": NO_LOCK, "updated_at": now}},
                return_document=ReturnDocument.AFTER,
            )
            if claimed is None:
                return done(False, "SLOT_ALREADY_BOOKED")
            await appointments.find_one(
                {
                    "patient_id": patient,
                    "status": {"$in": ACTIVE_STATUSES},
                    "starts_at": {"$lt": claimed["ends_at"]},
                    "ends_at": {"$gt": claimed["starts_at"]},
                },
                {"_id": 1, "slot_id": 1},
            )
            await appointments.insert_one(
                Appointment(
                    patient_id=patient,
                    doctor_id=claimed["doctor_id"],
                    slot_id=slot_id,
                    specialty_id=claimed["specialty_id"],
                    appointment_date=claimed["date"],
                    appointment_time=claimed["start_time"],
                    starts_at=claimed["starts_at"],
                    ends_at=claimed["ends_at"],
                    created_at=now,
                    updated_at=now,
                ).model_dump(by_alias=True, exclude={"id"})
                | {
                    "audit_owed": OwedAudit(
                        at=now,
                        entries=[
                            _entry(patient, now, "appointment.booked", ObjectId()),
                            _entry(patient, now, "slot.booked", slot_id),
                        ],
                    ).model_dump()
                }
            )
            return done(True)
        finally:
            await users.update_one(
                {"_id": patient, "guard_token": token},
                {"$set": {"guard_token": None, "guard_until": None}},
            )

    await asyncio.gather(*(slots.find_one({"_id": lot.slot_ids[0]}) for _ in lot.patients))
    meter.start()
    started = time.perf_counter()
    attempts = await asyncio.gather(*(attempt(i) for i in range(len(lot.patients))))
    wall = time.perf_counter() - started
    return list(attempts), wall, meter.stop()


async def _round_trips(
    store_uri: str, database: AsyncDatabase[data.Doc], doctor: Any, specialty: Any
) -> dict[str, Any]:
    """Commands per request of a winning lock, book and straight book, and a losing book."""
    docs = data.slot_docs(doctor, specialty, future_day(20), 2, minutes=15)
    first, second = (str(i) for i in await data.insert(database, "slots", docs, "B1 spare slots"))
    one, two = await data.add_patients(database, 2, "B1 spare patients")
    requests = [
        # The read model's catalogue, where a patient write finds its doctor's window.
        {
            "name": "catalogue",
            "query": CATALOGUE,
            "variables": {"s": str(specialty), "d": future_day(20).isoformat()},
        },
        {"name": "lock", "query": LOCK, "variables": {"s": first}, "token": one.token},
        {
            "name": "book_after_lock",
            "query": BOOK,
            "variables": {"i": {"slotId": first}},
            "token": one.token,
        },
        {
            "name": "book_straight",
            "query": BOOK,
            "variables": {"i": {"slotId": second}},
            "token": two.token,
        },
        {
            "name": "book_losing",
            "query": BOOK,
            "variables": {"i": {"slotId": first}},
            "token": two.token,
        },
    ]
    counts = await count_round_trips(store_uri, database.name, requests)
    counts["floor"] = {"lock": FLOOR_LOCK_OPS, "book": FLOOR_BOOK_OPS}
    return counts


def _figures(attempts: list[Attempt], wall: float, cpu: dict[str, float]) -> dict[str, Any]:
    bookings = sum(1 for a in attempts if a.booked)
    return {
        **cpu,
        "attempts": len(attempts),
        "bookings": bookings,
        "wall_s": wall,
        "bookings_per_s": bookings / wall if wall else 0.0,
        "latency": latency_summary([a.seconds for a in attempts]),
        "codes": dict(collections.Counter(a.code or "OK" for a in attempts)),
        "_attempts": attempts,
    }


async def _with_background(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    """Both rushes again on a database that also holds `b1_background_slots` slots (and as
    many booked appointments) of other doctors on other dates: no floor, the same checks."""
    client, database = await data.open_database(store.uri, f"bench_b1bg_{uuid.uuid4().hex[:8]}")
    try:
        specialty = await data.add_specialty(database, "Bench Rush Background")
        (doctor,) = await data.add_doctors(database, specialty, 1, "B1 doctor")
        lots = {
            variant: await _lot(database, doctor, specialty, 7 + offset, sizes, f"{variant} bg")
            for offset, variant in enumerate(VARIANTS)
        }
        added = await data.add_background(database, sizes.b1_background_slots, "B1 background")
        results: dict[str, Any] = {
            "background_slots": added,
            "slots_in_store": await database["slots"].estimated_document_count(),
            "appointments_before": await database["appointments"].estimated_document_count(),
        }
        async with api_processes(store.uri, database.name, log_dir) as apis:
            urls = [api.url for api in apis]
            meter = CpuMeter({"store": [store.pid], "api": [a.pid for a in apis]})
            for variant in VARIANTS:
                lot = lots[variant]
                figures = _figures(*await _rush(lot, urls, variant == "lock_then_book", meter))
                figures["check"] = await _check(database, lot, figures.pop("_attempts"))
                results[variant] = {"app": figures}
        return results
    finally:
        # Later scenarios should not share the store with 100,000 documents they never use.
        await client.drop_database(database.name)
        await client.close()


async def _memory_reference(log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    """The lock-then-book rush again, app only, on a store of the memory engine started for
    it: what the engine's own overhead costs, in the same run."""
    memory = Store("memory")
    memory.start()
    try:
        name = f"bench_b1mem_{uuid.uuid4().hex[:8]}"
        client, database = await data.open_database(memory.uri, name)
        try:
            specialty = await data.add_specialty(database, "Bench Rush Memory")
            (doctor,) = await data.add_doctors(database, specialty, 1, "B1 doctor")
            lot = await _lot(database, doctor, specialty, 7, sizes, "memory")
            async with api_processes(memory.uri, database.name, log_dir) as apis:
                meter = CpuMeter({"store": [memory.pid], "api": [a.pid for a in apis]})
                figures = _figures(*await _rush(lot, [a.url for a in apis], True, meter))
                figures["check"] = await _check(database, lot, figures.pop("_attempts"))
            return figures
        finally:
            await client.close()
    finally:
        await asyncio.to_thread(memory.stop)


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    store_uri = store.uri
    client, database = await data.open_database(store_uri, f"bench_b1_{uuid.uuid4().hex[:8]}")
    try:
        specialty = await data.add_specialty(database, "Bench Rush")
        (doctor,) = await data.add_doctors(database, specialty, 1, "B1 doctor")
        lots: dict[str, tuple[Lot, Lot]] = {}
        for offset, variant in enumerate(VARIANTS):
            app_lot = await _lot(database, doctor, specialty, 7 + 2 * offset, sizes, variant)
            floor_lot = await _lot(
                database, doctor, specialty, 8 + 2 * offset, sizes, f"{variant} floor"
            )
            lots[variant] = (app_lot, floor_lot)
        results: dict[str, Any] = {
            "patients": sizes.b1_patients,
            "slots": sizes.b1_slots,
            "api_processes": 2,
        }
        async with api_processes(store_uri, database.name, log_dir) as apis:
            urls = [api.url for api in apis]
            pids = {"store": [store.pid], "api": [a.pid for a in apis], "client": [os.getpid()]}
            meter = CpuMeter(pids)
            for variant in VARIANTS:
                app_lot, floor_lot = lots[variant]
                lock_first = variant == "lock_then_book"
                figures = _figures(*await _rush(app_lot, urls, lock_first, meter))
                figures["check"] = await _check(
                    database, app_lot, attempts=figures.pop("_attempts")
                )
                floor = _figures(*await _floor(database, floor_lot, lock_first, meter))
                floor["check"] = await _check(database, floor_lot, floor.pop("_attempts"))
                results[variant] = {
                    "app": figures,
                    "floor": floor,
                    "throughput_ratio": ratio(figures["bookings_per_s"], floor["bookings_per_s"]),
                }
            results["reschedule"] = await reschedule_rush(database, doctor, specialty, urls, sizes)
        results["store_round_trips"] = await _round_trips(store_uri, database, doctor, specialty)
    finally:
        await client.close()
    background = results["background"] = await _with_background(store, log_dir, sizes)
    moved = results["reschedule"]["check"]
    checks = [r[v]["app"]["check"] for r in (results, background) for v in VARIANTS]
    results["no_double_booking"] = (
        all(check["double_booked_slots"] == 0 for check in checks)
        and moved["double_booked_slots"] == 0
        and moved["appointments_lost"] == 0
    )
    results["all_correct"] = all(check["correct"] for check in checks)
    if store.engine != "memory":
        memory = results["memory_engine"] = await _memory_reference(log_dir, sizes)
        results["memory_engine_ratio"] = ratio(
            results["lock_then_book"]["app"]["bookings_per_s"], memory["bookings_per_s"]
        )
        results["memory_engine_target"] = MEMORY_TARGET
    return results

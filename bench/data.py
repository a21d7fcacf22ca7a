"""Fast loading: documents built from the app's own models and inserted in small batches.

Built with `Model(...).model_dump(by_alias=True, exclude={"id"})`, as the demo seed does, so
the stored shape is exactly the app's. Batches stay small because mongoeco checks every
insert against the whole collection: one large insert_many can block the store for longer
than PyMongo's heartbeat allows, and the clients then cancel their operations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from beanie import PydanticObjectId, init_beanie
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from tqdm import tqdm

from app.models import DOCUMENT_MODELS, Appointment, Doctor, Role, Slot, Specialty, User
from bench.common import future_day, mint_token

BATCH = 25
Doc = dict[str, Any]


@dataclass(frozen=True)
class Patient:
    id: str
    token: str


async def open_database(uri: str, db_name: str) -> tuple[AsyncMongoClient[Doc], AsyncDatabase[Doc]]:
    """A bench-side client on `db_name`, with the app's indexes created while it is empty."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        uri, tz_aware=True, uuidRepresentation="standard", maxPoolSize=250
    )
    database = client[db_name]
    await init_beanie(database=database, document_models=DOCUMENT_MODELS)
    return client, database


async def insert(
    database: AsyncDatabase[Doc], collection: str, docs: list[Doc], label: str
) -> list[Any]:
    """insert_many in small batches behind a progress bar; the inserted ids, in order."""
    ids: list[Any] = []
    with tqdm(total=len(docs), desc=label, unit="doc", leave=False, dynamic_ncols=True) as bar:
        for start in range(0, len(docs), BATCH):
            batch = docs[start : start + BATCH]
            result = await database[collection].insert_many(batch, ordered=True)
            ids.extend(result.inserted_ids)
            bar.update(len(batch))
    return ids


async def add_patients(database: AsyncDatabase[Doc], count: int, label: str) -> list[Patient]:
    """Patients stored directly, each with a minted token: no register/login round trips."""
    run = uuid.uuid4().hex[:8]
    docs = [
        User(
            email=f"bench-{run}-{i}@example.com",
            password_hash="bench-user-without-a-password",
            name=f"Bench Patient {i}",
            role=Role.PATIENT,
        ).model_dump(by_alias=True, exclude={"id"})
        for i in range(count)
    ]
    ids = await insert(database, "users", docs, label)
    return [Patient(str(i), mint_token(str(i))) for i in ids]


async def add_specialty(database: AsyncDatabase[Doc], name: str) -> PydanticObjectId:
    doc = Specialty(name=name, name_key=name.casefold()).model_dump(by_alias=True, exclude={"id"})
    result = await database["specialties"].insert_one(doc)
    return PydanticObjectId(result.inserted_id)


async def add_doctors(
    database: AsyncDatabase[Doc], specialty_id: PydanticObjectId, count: int, label: str
) -> list[PydanticObjectId]:
    run = uuid.uuid4().hex[:8]
    docs = [
        Doctor(
            name=f"Dr. Bench {run} {i:04d}",
            email=f"dr-{run}-{i}@example.com",
            specialty_id=specialty_id,
            license_number=f"LIC-{run}-{i}",
            consultation_fee=300,
            timezone="UTC",
        ).model_dump(by_alias=True, exclude={"id"})
        for i in range(count)
    ]
    return [PydanticObjectId(i) for i in await insert(database, "doctors", docs, label)]


def slot_docs(
    doctor_id: PydanticObjectId,
    specialty_id: PydanticObjectId,
    day: date,
    count: int,
    minutes: int = 30,
    first: time = time(6, 0),
) -> list[Doc]:
    """`count` back-to-back UTC slots of one doctor on one day, as the app stores them."""
    docs: list[Doc] = []
    start = datetime.combine(day, first, tzinfo=UTC)
    for i in range(count):
        starts_at = start + timedelta(minutes=minutes * i)
        ends_at = starts_at + timedelta(minutes=minutes)
        if ends_at.date() != day:
            raise ValueError(f"{count} slots of {minutes} minutes do not fit in one day")
        docs.append(
            Slot(
                doctor_id=doctor_id,
                specialty_id=specialty_id,
                starts_at=starts_at,
                ends_at=ends_at,
                date=day.isoformat(),
                start_time=starts_at.strftime("%H:%M"),
                end_time=ends_at.strftime("%H:%M"),
                duration_minutes=minutes,
            ).stored()
        )
    return docs


def object_ids(ids: list[Any]) -> list[ObjectId]:
    return [ObjectId(str(i)) for i in ids]


BACKGROUND_DOCTORS = 50
BACKGROUND_SLOTS_PER_DAY = 24  # 06:00-18:00 in 30-minute slots
BACKGROUND_FIRST_DAY = 30  # days ahead: after every date a scenario queries or books
BACKGROUND_BATCH = 250


async def add_background(database: AsyncDatabase[Doc], slots: int, label: str) -> int:
    """`slots` slots of doctors of their own, on dates nobody queries, each booked with an
    appointment: as many appointments as slots. Inserted as built, in batches, so 50,000 of
    each never sit in memory at once. Returns how many slots it wrote."""
    if slots <= 0:
        return 0
    specialty = await add_specialty(database, f"Background {uuid.uuid4().hex[:6]}")
    doctors = await add_doctors(database, specialty, BACKGROUND_DOCTORS, f"{label} doctors")
    booked_at = datetime.now(UTC) - timedelta(days=1)
    written = 0
    with tqdm(total=slots, desc=f"{label} slots", unit="doc", leave=False) as bar:
        day = BACKGROUND_FIRST_DAY
        while written < slots:
            for doctor in doctors:
                batch = slot_docs(
                    doctor, specialty, future_day(day), BACKGROUND_SLOTS_PER_DAY, first=time(6, 0)
                )[: slots - written]
                if not batch:
                    break
                for doc in batch:
                    # Booked long enough ago that neither the start-up migration nor the
                    # reconciler has anything left to do with it.
                    doc |= {"is_booked": True, "booked_at": booked_at}
                await _insert_booked(database, batch)
                written += len(batch)
                bar.update(len(batch))
            day += 1
    return written


async def _insert_booked(database: AsyncDatabase[Doc], slots: list[Doc]) -> None:
    for start in range(0, len(slots), BACKGROUND_BATCH):
        batch = slots[start : start + BACKGROUND_BATCH]
        ids = (await database["slots"].insert_many(batch, ordered=False)).inserted_ids
        appointments = [
            Appointment(
                patient_id=PydanticObjectId(),
                doctor_id=slot["doctor_id"],
                slot_id=PydanticObjectId(slot_id),
                specialty_id=slot["specialty_id"],
                appointment_date=slot["date"],
                appointment_time=slot["start_time"],
                end_time=slot["end_time"],
                starts_at=slot["starts_at"],
                ends_at=slot["ends_at"],
            ).model_dump(by_alias=True, exclude={"id"})
            for slot, slot_id in zip(batch, ids, strict=True)
        ]
        await database["appointments"].insert_many(appointments, ordered=False)

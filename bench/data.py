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

from app.models import DOCUMENT_MODELS, Doctor, Role, Slot, Specialty, User
from bench.common import mint_token

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

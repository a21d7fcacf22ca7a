"""B5 schedule generation: many doctors set a weekly schedule; slots written per second.

App: `setSchedule` over HTTP for every doctor (two API processes, a few at a time), each
materializing its slots from today through the horizon. Floor, in the same run: the very
documents the app wrote, inserted again with bare PyMongo `insert_many` (one call per
doctor, as the app makes) into a collection with only its `_id` index. Round trips per
doctor are counted in-process for a 7-day and a 60-day schedule: they must be the same.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId

from bench import data
from bench.b5_changes import run_changes
from bench.common import ADMIN_EMAIL, Sizes, future_day, graphql, http_client, mint_token
from bench.common import run_concurrently as run_all
from bench.roundtrips import count_round_trips
from bench.servers import Store, api_processes

CONCURRENT_DOCTORS = 4
SET_SCHEDULE = """mutation($doctorId: ID!, $input: ScheduleInput!) {
  setSchedule(doctorId: $doctorId, input: $input) { slotsAdded slotsRemoved horizonEnd }
}"""
WORKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]


def schedule_input(valid_days: int | None = None) -> dict[str, Any]:
    """Weekdays 09:00-12:00 and 13:00-17:00 in 30-minute slots: 14 a working day."""
    ranges = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
    schedule: dict[str, Any] = {
        "slotMinutes": 30,
        "bufferMinutes": 0,
        "weekly": [{"weekday": day, "ranges": ranges} for day in WORKDAYS],
    }
    if valid_days is not None:
        schedule["validUntil"] = (future_day(0) + timedelta(days=valid_days - 1)).isoformat()
    return schedule


async def _admin_token(database: Any) -> str:
    admin = await database["users"].find_one({"email": ADMIN_EMAIL}, {"_id": 1})
    assert admin is not None, "the API processes create the admin at start-up"
    return mint_token(str(admin["_id"]), role="ADMIN")


async def _generate(
    urls: list[str], token: str, doctors: list[PydanticObjectId]
) -> tuple[float, int, list[str]]:
    """Wall time, slots the app reports it added, error codes."""
    client = http_client()
    errors: list[str] = []
    added: list[int] = []

    async def one(i: int) -> None:
        reply = await graphql(
            client,
            urls[i % len(urls)],
            SET_SCHEDULE,
            {"doctorId": str(doctors[i]), "input": schedule_input()},
            token,
        )
        if reply.get("errors"):
            errors.append(str(reply["errors"][0].get("extensions", {}).get("code")))
        else:
            added.append(int(reply["data"]["setSchedule"]["slotsAdded"]))

    try:
        _, wall = await run_all(len(doctors), CONCURRENT_DOCTORS, one)
    finally:
        await client.close()
    return wall, sum(added), errors


async def _floor(database: Any, doctors: list[PydanticObjectId]) -> tuple[int, float]:
    """The app's own documents, written again by bare PyMongo into an `_id`-only collection."""
    target = database[f"b5_floor_{uuid.uuid4().hex[:8]}"]
    by_doctor: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    # One read of everything: a per-doctor filter scans the whole collection on this store.
    async for doc in database["slots"].find({}, {"_id": 0}):
        by_doctor[doc["doctor_id"]].append(doc)
    written = 0
    elapsed = 0.0
    for doctor in doctors:
        docs = by_doctor.get(doctor, [])
        started = time.perf_counter()
        if docs:
            await target.insert_many(docs, ordered=False)
        elapsed += time.perf_counter() - started
        written += len(docs)
    return written, elapsed


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    return {
        **await _generation(store, log_dir, sizes),
        # Changes on the SQLite store, on a store of their own (bench/b5_changes.py).
        "changes": await run_changes(log_dir, sizes),
    }


async def _generation(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    client, database = await data.open_database(store.uri, f"bench_b5_{uuid.uuid4().hex[:8]}")
    try:
        specialty = await data.add_specialty(database, "Bench Schedules")
        doctors = await data.add_doctors(database, specialty, sizes.b5_doctors, "B5 doctors")
        async with api_processes(store.uri, database.name, log_dir) as apis:
            token = await _admin_token(database)
            wall, app_slots, errors = await _generate([a.url for a in apis], token, doctors)
        # The store's own count: count_documents over 60k slots exceeds the embedded store's
        # materialization budget, and only schedules write slots in this database.
        stored = await database["slots"].estimated_document_count()
        floor_slots, floor_s = await _floor(database, doctors)
        short, long = await data.add_doctors(database, specialty, 2, "B5 round-trip doctors")
        trips = await count_round_trips(
            store.uri,
            database.name,
            [
                {
                    "name": "days_7",
                    "query": SET_SCHEDULE,
                    "variables": {"doctorId": str(short), "input": schedule_input(7)},
                    "token": token,
                },
                {
                    "name": "days_60",
                    "query": SET_SCHEDULE,
                    "variables": {"doctorId": str(long), "input": schedule_input(60)},
                    "token": token,
                },
            ],
        )
        return {
            "doctors": sizes.b5_doctors,
            "days": 60,
            "errors": errors,
            "app": {
                "slots": app_slots,
                "stored": stored,
                "seconds": wall,
                "slots_per_s": app_slots / wall,
            },
            "floor": {
                "slots": floor_slots,
                "seconds": floor_s,
                "slots_per_s": floor_slots / floor_s if floor_s else 0.0,
            },
            "round_trips": {
                "days_7": trips["days_7"]["round_trips"],
                "days_60": trips["days_60"]["round_trips"],
                "errors": trips["days_7"]["errors"] + trips["days_60"]["errors"],
                "commands": {
                    "days_7": trips["days_7"]["commands_by_collection"],
                    "days_60": trips["days_60"]["commands_by_collection"],
                },
            },
        }
    finally:
        await client.close()

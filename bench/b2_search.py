"""B2 slot search: the two read paths at 32 concurrent clients, as the store grows.

Three stages on one database: few doctors, many doctors (round trips must not grow with
them), then ten times the slots on other dates (latency must not grow with them). Round
trips are counted in a child process running the app in-process (see bench/roundtrips.py).
The floor reads the same data with bare PyMongo: the bookable slots of the date, the
doctors they belong to and the specialty, or one doctor's bookable slots.
"""

from __future__ import annotations

import collections
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from tqdm import tqdm

from app.core.clock import utcnow
from app.store.queries.slots import open_for
from bench import data
from bench.common import (
    CpuMeter,
    Sizes,
    future_day,
    graphql,
    http_client,
    latency_summary,
    ratio,
    run_concurrently,
)
from bench.roundtrips import count_round_trips
from bench.servers import Store, announce_direct_writes, api_processes

DOCTORS = """query($s: ID!, $d: Date!) {
  doctors(specialtyId: $s, date: $d) {
    name specialty { name } availableSlots(date: $d) { id startTime state }
  }
}"""
AVAILABLE = """query($doctor: ID!, $d: Date!) {
  availableSlots(doctorId: $doctor, date: $d) { id startTime state }
}"""
QUERIES = ("doctors", "available_slots")
ROUND_TRIP_REPEATS = 3


@dataclass
class World:
    """What the stages share: the queried specialty and day, and the doctors so far."""

    database: AsyncDatabase[data.Doc]
    specialty: PydanticObjectId
    day: date
    doctors: list[PydanticObjectId]


class _Commands(monitoring.CommandListener):
    """Counts the floor client's commands (the floor's own round trips, measured too)."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


async def _add_doctors(world: World, count: int, sizes: Sizes) -> None:
    new = await data.add_doctors(world.database, world.specialty, count, "B2 doctors")
    docs: list[data.Doc] = []
    for doctor in new:
        docs += data.slot_docs(doctor, world.specialty, world.day, sizes.b2_slots_per_doctor)
    await data.insert(world.database, "slots", docs, "B2 slots on the searched day")
    world.doctors += new


async def _grow_other_dates(worlds: list[World], sizes: Sizes) -> int:
    """Add (growth - 1) times the store's slots, on days nobody searches."""
    docs: list[data.Doc] = []
    for offset in range(1, sizes.b2_store_growth):
        for world in worlds:
            day = world.day + timedelta(days=offset)
            for doctor in world.doctors:
                docs += data.slot_docs(doctor, world.specialty, day, sizes.b2_slots_per_doctor)
    await data.insert(worlds[0].database, "slots", docs, "B2 slots on other days")
    return len(docs)


def _floor_reads(
    database: AsyncDatabase[data.Doc], world: World
) -> dict[str, Callable[[int], Awaitable[int]]]:
    """The least the store must do for each query's data; each returns what it found."""
    day = world.day.isoformat()

    async def doctors(_: int) -> int:
        slots = await (
            database["slots"]
            .find({"date": day, "specialty_id": world.specialty, **open_for(None, utcnow())})
            .sort("starts_at")
            .to_list(None)
        )
        ids = list({slot["doctor_id"] for slot in slots})
        found = await (
            database["doctors"]
            .find({"_id": {"$in": ids}, "specialty_id": world.specialty, "is_active": True})
            .sort("name")
            .to_list(None)
        )
        await database["specialties"].find_one({"_id": world.specialty})
        return len(found)

    async def available(i: int) -> int:
        doctor = world.doctors[i % len(world.doctors)]
        slots = await (
            database["slots"]
            .find({"date": day, "doctor_id": doctor, **open_for(None, utcnow())})
            .sort("starts_at")
            .to_list(None)
        )
        if not slots:  # only then must the store say whether the doctor exists
            await database["doctors"].find_one({"_id": doctor})
        return len(slots)

    return {"doctors": doctors, "available_slots": available}


def _api_calls(
    world: World, urls: list[str], http: Any
) -> dict[str, Callable[[int], Awaitable[int]]]:
    day = world.day.isoformat()

    async def doctors(i: int) -> int:
        body = await graphql(
            http, urls[i % len(urls)], DOCTORS, {"s": str(world.specialty), "d": day}
        )
        if body.get("errors"):
            raise RuntimeError(f"doctors query failed: {body['errors']}")
        return len(body["data"]["doctors"])

    async def available(i: int) -> int:
        doctor = str(world.doctors[i % len(world.doctors)])
        body = await graphql(http, urls[i % len(urls)], AVAILABLE, {"doctor": doctor, "d": day})
        if body.get("errors"):
            raise RuntimeError(f"availableSlots query failed: {body['errors']}")
        return len(body["data"]["availableSlots"])

    return {"doctors": doctors, "available_slots": available}


async def _load(
    call: Callable[[int], Awaitable[int]], sizes: Sizes, label: str, meter: CpuMeter
) -> dict[str, Any]:
    """`b2_requests` calls on `b2_concurrency` workers after a warm-up round: the figures."""
    warm = max(2 * sizes.b2_concurrency, sizes.b2_requests // 4)
    await run_concurrently(warm, sizes.b2_concurrency, call)

    async def timed(i: int) -> tuple[float, int]:
        started = time.perf_counter()
        found = await call(i)
        return time.perf_counter() - started, found

    with tqdm(total=sizes.b2_requests, desc=label, unit="req", leave=False) as bar:
        meter.start()
        results, wall = await run_concurrently(
            sizes.b2_requests, sizes.b2_concurrency, timed, progress=bar
        )
        cpu = meter.stop()
    return {
        **{
            name.replace("_cpu_s", "_cpu_ms_per_request"): seconds * 1000 / len(results)
            for name, seconds in cpu.items()
        },
        "requests": len(results),
        "concurrency": sizes.b2_concurrency,
        "throughput_per_s": len(results) / wall,
        "latency": latency_summary([seconds for seconds, _ in results]),
        "items_returned": dict(collections.Counter(found for _, found in results)),
    }


async def _floor_round_trips(
    reads: dict[str, Callable[[int], Awaitable[int]]], listener: _Commands
) -> dict[str, float]:
    counts: dict[str, float] = {}
    for name, read in reads.items():
        before = listener.count
        for i in range(ROUND_TRIP_REPEATS):
            await read(i)
        counts[name] = (listener.count - before) / ROUND_TRIP_REPEATS
    return counts


async def _stage(
    world: World,
    store: Store,
    meter: CpuMeter,
    urls: list[str],
    floor_db: AsyncDatabase[data.Doc],
    listener: _Commands,
    sizes: Sizes,
    label: str,
) -> dict[str, Any]:
    slots_in_store = await world.database["slots"].count_documents({})
    requests = [
        {
            "name": "doctors",
            "query": DOCTORS,
            "variables": {"s": str(world.specialty), "d": world.day.isoformat()},
            "repeat": ROUND_TRIP_REPEATS,
        },
        {
            "name": "available_slots",
            "query": AVAILABLE,
            "variables": {"doctor": str(world.doctors[-1]), "d": world.day.isoformat()},
            "repeat": ROUND_TRIP_REPEATS,
        },
    ]
    app_trips = await count_round_trips(store.uri, world.database.name, requests)
    for name, counted in app_trips.items():
        if counted["errors"]:
            raise RuntimeError(f"{name} failed while counting round trips: {counted['errors']}")
    floor_reads = _floor_reads(floor_db, world)
    floor_trips = await _floor_round_trips(floor_reads, listener)
    stage: dict[str, Any] = {"doctor_count": len(world.doctors), "slots_in_store": slots_in_store}
    async with http_client() as http:
        calls = _api_calls(world, urls, http)
        for name in QUERIES:
            app = await _load(calls[name], sizes, f"B2 {label} {name}", meter)
            floor = await _load(floor_reads[name], sizes, f"B2 {label} {name} floor", meter)
            app["round_trips"] = app_trips[name]["round_trips"]
            app["commands_per_request"] = app_trips[name]["commands_per_request"]
            floor["round_trips"] = floor_trips[name]
            stage[name] = {
                "app": app,
                "floor": floor,
                "throughput_ratio": ratio(app["throughput_per_s"], floor["throughput_per_s"]),
                "p50_ratio": ratio(app["latency"]["p50_ms"], floor["latency"]["p50_ms"]),
                "p99_ratio": ratio(app["latency"]["p99_ms"], floor["latency"]["p99_ms"]),
            }
    return stage


def _targets(stages: dict[str, Any]) -> dict[str, Any]:
    """The issue's B2 targets, per query, from the three stages."""
    targets: dict[str, Any] = {}
    for name in QUERIES:
        small, large, grown = (stages[s][name] for s in ("small", "large", "large_10x"))
        trips = [small["app"]["round_trips"], large["app"]["round_trips"]]
        targets[name] = {
            "round_trips_constant": trips[0] == trips[1] and max(trips) <= 4,
            "p50_growth_10x_slots": ratio(
                grown["app"]["latency"]["p50_ms"], large["app"]["latency"]["p50_ms"]
            ),
            "p99_growth_10x_slots": ratio(
                grown["app"]["latency"]["p99_ms"], large["app"]["latency"]["p99_ms"]
            ),
            "floor_p50_growth_10x_slots": ratio(
                grown["floor"]["latency"]["p50_ms"], large["floor"]["latency"]["p50_ms"]
            ),
            "min_throughput_ratio": min(
                stages[s][name]["throughput_ratio"] for s in ("small", "large", "large_10x")
            ),
        }
    return targets


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    client, database = await data.open_database(store.uri, f"bench_b2_{uuid.uuid4().hex[:8]}")
    listener = _Commands()
    floor_client: AsyncMongoClient[data.Doc] = AsyncMongoClient(
        store.uri, tz_aware=True, event_listeners=[listener]
    )
    try:
        specialty = await data.add_specialty(database, "Bench Search")
        other = await data.add_specialty(database, "Bench Elsewhere")
        world = World(database, specialty, future_day(10), [])
        # A few doctors of another specialty on the same day: the filter must leave them out.
        noise = World(database, other, world.day, [])
        await _add_doctors(noise, 3, sizes)
        small, large = sizes.b2_doctors
        await _add_doctors(world, small, sizes)
        results: dict[str, Any] = {"day": world.day.isoformat()}
        stages: dict[str, Any] = {}
        floor_db = floor_client[database.name]
        async with api_processes(store.uri, database.name, log_dir) as apis:
            urls = [api.url for api in apis]
            pids = {"store": [store.pid], "api": [a.pid for a in apis], "client": [os.getpid()]}
            meter = CpuMeter(pids)
            stages["small"] = await _stage(
                world, store, meter, urls, floor_db, listener, sizes, "small"
            )
            await _add_doctors(world, large - small, sizes)
            await announce_direct_writes(apis)
            stages["large"] = await _stage(
                world, store, meter, urls, floor_db, listener, sizes, "large"
            )
            started = time.perf_counter()
            added = await _grow_other_dates([world, noise], sizes)
            await announce_direct_writes(apis)
            results["load_10x_seconds"] = time.perf_counter() - started
            results["slots_added_on_other_days"] = added
            stages["large_10x"] = await _stage(
                world, store, meter, urls, floor_db, listener, sizes, "large 10x"
            )
        results["stages"] = stages
        results["targets"] = _targets(stages)
        return results
    finally:
        await floor_client.close()
        await client.close()

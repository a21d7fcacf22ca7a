"""B12 the rush: 16 patients lock then book different slots of one doctor at once.

The doctor holds 3,000 slots (60 a day for 50 days, a busy practice's 60-day horizon), so
every write lands on a collection the size a clinic really has. The rush runs with 1, 2 and
4 API processes sharing the one store; each run takes fresh slots and patients. Figures:
each patient's lock-then-book latency (p50, p99, max), requests per second, and where the
time goes: store command time per operation, read from every API process's /metrics
(`aayulink_store_command_seconds`) before and after the rush, and the store process's CPU.
When the store time per operation grows with the number of API processes while their
requests per second do not, the single embedded store process is what serialises them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from beanie import PydanticObjectId
from prometheus_client.parser import text_string_to_metric_families

from bench import data
from bench.b1_booking import BOOK, LOCK
from bench.common import (
    CpuMeter,
    Sizes,
    error_code,
    future_day,
    graphql,
    http_client,
    latency_summary,
)
from bench.http import HttpClient
from bench.servers import Store, UvicornProcess, api_processes

PATIENTS = 16
SLOTS_A_DAY = 60  # 15-minute slots from 06:00 to 21:00
RUN_SPACING = 20  # run k books the day's slots 20k .. 20k + 15
FIRST_DAY = 2  # days ahead
WORKER_COUNTS = (1, 2, 4)
TARGET_WORKERS = 2  # the count the targets are read at, as B1 runs
TARGET_P50_MS = 300.0
TARGET_MAX_MS = 1000.0
STORE_SECONDS = "aayulink_store_command_seconds"


async def _doctor_with_slots(
    database: Any, sizes: Sizes
) -> tuple[PydanticObjectId, list[list[str]]]:
    """One doctor with `b11_doctor_slots` slots (3,000; fewer on --quick); per day, its ids."""
    specialty = await data.add_specialty(database, "B12 Rush")
    (doctor,) = await data.add_doctors(database, specialty, 1, "B12 doctor")
    total = sizes.b11_doctor_slots
    days: list[list[str]] = []
    for offset in range(total // SLOTS_A_DAY):
        docs = data.slot_docs(
            doctor, specialty, future_day(FIRST_DAY + offset), SLOTS_A_DAY, minutes=15
        )
        days.append([str(i) for i in await data.insert(database, "slots", docs, "B12 slots")])
    return doctor, days


def _store_seconds(text: str) -> dict[str, tuple[float, float]]:
    """Per store command: (seconds, commands) so far, from one process's /metrics."""
    found: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != STORE_SECONDS:
            continue
        for sample in family.samples:
            command = sample.labels.get("command", "?")
            entry = found.setdefault(command, [0.0, 0.0])
            if sample.name.endswith("_sum"):
                entry[0] += sample.value
            elif sample.name.endswith("_count"):
                entry[1] += sample.value
    return {k: (v[0], v[1]) for k, v in found.items()}


async def _scrape(apis: list[UvicornProcess]) -> dict[str, tuple[float, float]]:
    totals: dict[str, list[float]] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        replies = [await client.get(f"http://127.0.0.1:{api.port}/metrics") for api in apis]
    for reply in replies:
        reply.raise_for_status()
        for command, (seconds, count) in _store_seconds(reply.text).items():
            entry = totals.setdefault(command, [0.0, 0.0])
            entry[0] += seconds
            entry[1] += count
    return {k: (v[0], v[1]) for k, v in totals.items()}


async def _rush(
    http: HttpClient, apis: list[UvicornProcess], slots: list[str], patients: list[data.Patient]
) -> tuple[list[float], list[float], list[str], float]:
    """Every patient at once: lock its slot, then book it. Pair and request latencies."""
    urls = [api.url for api in apis]

    async def one(i: int) -> tuple[float, list[float], list[str]]:
        url, token, slot = urls[i % len(urls)], patients[i].token, slots[i]
        started = time.perf_counter()
        locked = await graphql(http, url, LOCK, {"s": slot}, token)
        after_lock = time.perf_counter()
        booked = await graphql(http, url, BOOK, {"i": {"slotId": slot}}, token)
        ended = time.perf_counter()
        codes = [c for c in (error_code(locked), error_code(booked)) if c]
        return ended - started, [after_lock - started, ended - after_lock], codes

    started = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(len(patients))))
    wall = time.perf_counter() - started
    pairs = [r[0] for r in results]
    requests = [s for r in results for s in r[1]]
    codes = [c for r in results for c in r[2]]
    return pairs, requests, codes, wall


async def _one_count(
    store: Store,
    log_dir: Path,
    database: Any,
    workers: int,
    slots: list[str],
    patients: list[data.Patient],
) -> dict[str, Any]:
    async with (
        api_processes(store.uri, database.name, log_dir, count=workers) as apis,
        http_client() as http,
    ):
        # Each process reads its catalogue and opens its store connections before the rush.
        for api in apis:
            await graphql(http, api.url, "{ __typename }")
        meter = CpuMeter({"store": [store.pid], "api": [a.pid for a in apis]})
        before = await _scrape(apis)
        meter.start()
        pairs, requests, codes, wall = await _rush(http, apis, slots, patients)
        cpu = meter.stop()
        after = await _scrape(apis)
    operations = 2 * len(patients)
    spent = {
        command: (after[command][0] - before.get(command, (0.0, 0.0))[0]) * 1000 / operations
        for command in after
    }
    commands = sum(after[c][1] - before.get(c, (0.0, 0.0))[1] for c in after)
    return {
        "api_processes": workers,
        "patients": len(patients),
        "pair": latency_summary(pairs),
        "request": latency_summary(requests),
        "requests_per_s": operations / wall if wall else 0.0,
        "wall_s": wall,
        "errors": codes,
        "store_ms_per_operation": sum(spent.values()),
        "store_ms_per_operation_by_command": {k: v for k, v in sorted(spent.items()) if v > 0},
        "store_commands_per_operation": commands / operations,
        **cpu,
    }


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    client, database = await data.open_database(store.uri, f"bench_b11_{uuid.uuid4().hex[:8]}")
    try:
        doctor, days = await _doctor_with_slots(database, sizes)
        runs: list[dict[str, Any]] = []
        for index, workers in enumerate(WORKER_COUNTS):
            # Slots spread over the horizon; each run takes other times of day.
            picks = [days[i % len(days)][RUN_SPACING * index + i] for i in range(PATIENTS)]
            patients = await data.add_patients(database, PATIENTS, f"B12 patients x{workers}")
            runs.append(await _one_count(store, log_dir, database, workers, picks, patients))
        booked = await database["appointments"].count_documents({"doctor_id": doctor})
        slots_in_store = await database["slots"].estimated_document_count()
    finally:
        await client.drop_database(database.name)
        await client.close()
    at_target = next(r for r in runs if r["api_processes"] == TARGET_WORKERS)
    return {
        "engine": store.engine,
        "doctor_slots": slots_in_store,
        "appointments_booked": booked,
        "runs": runs,
        "targets": {
            "api_processes": TARGET_WORKERS,
            "p50_ms": {
                "value": at_target["pair"]["p50_ms"],
                "limit": TARGET_P50_MS,
                "met": at_target["pair"]["p50_ms"] < TARGET_P50_MS,
            },
            "max_ms": {
                "value": at_target["pair"]["max_ms"],
                "limit": TARGET_MAX_MS,
                "met": at_target["pair"]["max_ms"] < TARGET_MAX_MS,
            },
            "every_patient_booked": booked == PATIENTS * len(WORKER_COUNTS),
        },
    }

"""B1, what notifications cost a booking: the lock-then-book rush (200 patients, 50 slots,
two API processes) with the outbox on, as clinics run, and with NOTIFICATIONS_ENABLED=false,
in alternating rounds on fresh slots and freshly started processes (the target: bookings/s
with notifications within 10% of without). Each round's processes start with the store
quiet; the sender of a round with notifications runs during its rush, as it would."""

from __future__ import annotations

import statistics
import uuid
from pathlib import Path
from typing import Any

from bench import data
from bench.b1_booking import _check, _figures, _lot, _rush
from bench.common import CpuMeter, Sizes, ratio
from bench.servers import Store, api_processes

ROUNDS = 5  # rounds of each; a single rush varies by 15% from one to the next
TARGET = 0.9  # bookings/s with notifications, at least this share of without


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    client, database = await data.open_database(store.uri, f"bench_b1n_{uuid.uuid4().hex[:8]}")
    rounds: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
    try:
        specialty = await data.add_specialty(database, "Bench Rush Notifications")
        (doctor,) = await data.add_doctors(database, specialty, 1, "B1 notifications doctor")
        day = 30
        for _ in range(ROUNDS):
            for variant, enabled in (("with", "true"), ("without", "false")):
                lot = await _lot(database, doctor, specialty, day, sizes, f"{variant} notes")
                day += 1
                env = {"NOTIFICATIONS_ENABLED": enabled}
                async with api_processes(store.uri, database.name, log_dir, env=env) as apis:
                    meter = CpuMeter({"store": [store.pid], "api": [a.pid for a in apis]})
                    figures = _figures(*await _rush(lot, [a.url for a in apis], True, meter))
                figures["check"] = await _check(database, lot, figures.pop("_attempts"))
                rounds[variant].append(figures)
        written = await database["notifications"].estimated_document_count()
    finally:
        await client.drop_database(database.name)
        await client.close()
    median = {
        variant: statistics.median(r["bookings_per_s"] for r in found)
        for variant, found in rounds.items()
    }
    return {
        "rounds": rounds,
        "bookings_per_s": median,
        "ratio": ratio(median["with"], median["without"]),
        "target": TARGET,
        "notifications_written": written,
        "all_correct": all(r["check"]["correct"] for found in rounds.values() for r in found),
    }

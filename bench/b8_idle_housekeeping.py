"""B8 idle housekeeping: what two idle API processes cost the store process, with many slots.

Nobody books, locks or reads: the store only serves housekeeping, the lease renewals of
both processes and the holder's lock sweep and reconciler (through their sparse indexes;
the horizon check runs at start-up and every few minutes). Measured as the store process's
CPU over a window, as a share of one core, at the full size and, in the same run, at a
small reference size on a database of its own: the two should be about equal.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase
from tqdm import tqdm

from bench import data
from bench.common import CpuMeter, Sizes, future_day
from bench.servers import Store, api_processes

DOCTORS = 50
SLOTS_PER_DAY = 24  # 06:00-18:00 in 30-minute slots
INSERT_BATCH = 100
# Start-up work (the admin, the first horizon roll, the lease) done before the window opens.
SETTLE_S = 5.0
TARGET_PERCENT = 5.0


def _slot_docs(
    doctors: list[PydanticObjectId], specialty: PydanticObjectId, count: int
) -> Iterator[dict[str, Any]]:
    """`count` slots, day after day from tomorrow, every doctor a full day in turn."""
    made = 0
    for day in range(1, math.ceil(count / (len(doctors) * SLOTS_PER_DAY)) + 1):
        for doctor in doctors:
            for doc in data.slot_docs(doctor, specialty, future_day(day), SLOTS_PER_DAY):
                if made == count:
                    return
                made += 1
                yield doc


async def _insert_slots(database: AsyncDatabase[data.Doc], docs: Iterator[dict[str, Any]]) -> None:
    """In batches as they are built: 50,000 documents need not sit in memory at once."""
    batch: list[dict[str, Any]] = []
    with tqdm(desc="B8 slots", unit="doc", leave=False, dynamic_ncols=True) as bar:
        for doc in docs:
            batch.append(doc)
            if len(batch) == INSERT_BATCH:
                await database["slots"].insert_many(batch, ordered=False)
                bar.update(len(batch))
                batch = []
        if batch:
            await database["slots"].insert_many(batch, ordered=False)
            bar.update(len(batch))


async def _load(store: Store, slots: int) -> str:
    db_name = f"aayulink_bench_b8_{slots}_{uuid.uuid4().hex[:6]}"
    client, database = await data.open_database(store.uri, db_name)
    try:
        specialty = await data.add_specialty(database, f"B8 Medicine {slots}")
        doctors = await data.add_doctors(database, specialty, DOCTORS, "B8 doctors")
        await _insert_slots(database, _slot_docs(doctors, specialty, slots))
        stored = await database["slots"].estimated_document_count()
        assert stored == slots, f"loaded {stored} slots, wanted {slots}"
    finally:
        await client.close()
    return db_name


async def _lease_holders(store: Store, db_name: str) -> int:
    client, database = await data.open_database(store.uri, db_name)
    try:
        # The housekeeping lease only: the notification sender's lease is another, and may
        # rightly be held by the other process.
        housekeeping = {"_id": {"$regex": "^housekeeping:"}}
        return len(await database["leases"].distinct("holder", housekeeping))
    finally:
        await client.close()


async def _idle(store: Store, log_dir: Path, slots: int, window_s: float) -> dict[str, Any]:
    db_name = await _load(store, slots)
    async with api_processes(store.uri, db_name, log_dir) as processes:
        await asyncio.sleep(SETTLE_S)
        meter = CpuMeter({"store": [store.pid], "api": [p.pid for p in processes]})
        meter.start()
        started = time.perf_counter()
        await asyncio.sleep(window_s)
        used = meter.stop()
        elapsed = time.perf_counter() - started
        holders = await _lease_holders(store, db_name)
    return {
        "slots": slots,
        "api_processes": len(processes),
        "window_s": elapsed,
        "store_cpu_s": used["store_cpu_s"],
        "store_cpu_percent": used["store_cpu_s"] / elapsed * 100,
        "api_cpu_percent": used["api_cpu_s"] / elapsed * 100,
        "lease_holders": holders,
    }


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    reference = await _idle(store, log_dir, sizes.b8_reference_slots, sizes.b8_window_s)
    app = await _idle(store, log_dir, sizes.b8_slots, sizes.b8_window_s)
    return {"app": app, "reference": reference, "target_percent": TARGET_PERCENT}

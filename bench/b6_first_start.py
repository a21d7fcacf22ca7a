"""B6 first start: a fresh data directory, `python -m app serve`, until `/graphql` answers.

What a new user waits for after the install step. The floor is the same start with the
demo seed switched off, in the same run: the difference is what seeding costs.

Then the start of a clinic with data: a data directory already holding `b7_slots[1]` slots
(50,000, each booked with an appointment), started twice: the first start after an upgrade
runs the pending migrations once, every later start only reads their marks and must take
about what an empty store's start takes (start-up must not grow with the data).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app.store.embedded import EmbeddedStoreProcess, stop_process
from bench import data
from bench.common import Sizes
from bench.servers import ROOT, Store, free_port

READY_TIMEOUT_S = 120.0
MONGODB_DB = "aayulink"  # what `serve` uses when MONGODB_DB is not set
FILLED_TARGET_RATIO = 1.5  # a start at 50,000 slots against an empty store's
SEED_LINE = re.compile(r"demo data ready: (\d+) slots .*?in ([0-9.]+) s")


def _spawn_serve(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )


async def _first_start(
    seed: bool, log_dir: Path, data_dir: Path | None = None, label: str = ""
) -> dict[str, Any]:
    """`serve` on `data_dir` (a fresh one if None, removed afterwards) until it answers."""
    keep = data_dir is not None
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="aayulink-bench-first-start-"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL")},
        "APP_ENV": "development",
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "SEED_DEMO_DATA": "true" if seed else "false",
        "LOG_LEVEL": "INFO",
    }
    log_path = log_dir / f"first-start-{label or ('seed' if seed else 'bare')}-{port}.log"
    url = f"http://127.0.0.1:{port}/graphql"
    started = time.perf_counter()
    process = _spawn_serve(env, log_path)
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"serve exited:\n{log_path.read_text(errors='replace')}")
                if time.perf_counter() - started > READY_TIMEOUT_S:
                    raise RuntimeError(f"serve did not answer:\n{log_path.read_text()}")
                try:
                    reply = await client.post(url, json={"query": "{ __typename }"})
                    if reply.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        ready_s = time.perf_counter() - started
    finally:
        await asyncio.to_thread(stop_process, process, 30)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    seeded = SEED_LINE.search(log_path.read_text(errors="replace"))
    return {
        "ready_s": ready_s,
        "slots_seeded": int(seeded.group(1)) if seeded else 0,
        "seed_s": float(seeded.group(2)) if seeded else 0.0,
    }


async def _filled_data_dir(slots: int) -> tuple[Path, float]:
    """A data directory whose SQLite store holds `slots` booked slots, written by a store
    process of its own (stopped again, so `serve` can take the directory)."""
    data_dir = Path(tempfile.mkdtemp(prefix="aayulink-bench-filled-start-"))
    store = EmbeddedStoreProcess("sqlite", data_dir)
    started = time.perf_counter()
    try:
        client, database = await data.open_database(store.start(), MONGODB_DB)
        try:
            await data.add_background(database, slots, "B6 slots")
        finally:
            await client.close()
    finally:
        await asyncio.to_thread(store.stop)
    return data_dir, time.perf_counter() - started


async def _filled_starts(log_dir: Path, slots: int) -> dict[str, Any]:
    data_dir, filled_s = await _filled_data_dir(slots)
    try:
        first = await _first_start(False, log_dir, data_dir, "filled-first")
        again = await _first_start(False, log_dir, data_dir, "filled-again")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return {"slots": slots, "fill_s": filled_s, "first": first, "again": again}


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    """`store` is not used: `serve` starts its own embedded store, as a new user's does."""
    del store
    floor = await _first_start(False, log_dir)
    app = await _first_start(True, log_dir)
    filled = await _filled_starts(log_dir, sizes.b7_slots[1])
    return {
        "app": app,
        "floor": floor,
        "target_s": 15.0,
        "filled": filled,
        "filled_target_ratio": FILLED_TARGET_RATIO,
    }

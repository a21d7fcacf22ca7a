"""B13 hostile documents: what 8 anonymous clients sending costly documents do to an honest one.

Each hostile client sends, back to back, the document of issue 20 (one field repeated 495
times, 7 KB, under the token cap), made unique each time so no cache helps. An honest client
asks for the specialty list sequentially, first alone (the reference) and then while the
hostile clients run, against one API process. The figure is the rise in its p99; beside
it, the rise when the same 8 clients send a trivial valid document instead, unique each time
too (what 8 busy clients cost anyway), so a loaded machine's figure can be read as a ratio.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import Sizes, error_code, graphql, http_client, latency_summary
from bench.servers import ROOT, Store, api_processes

HOSTILE_CLIENTS = 8
REPEATS = 495
HONEST = "{ specialties { id name } }"
BENIGN = "{ __typename }"  # made unique per request, as the hostile ones are
TARGET_RISE_MS = 50.0


def hostile_document(n: int) -> str:
    return "{ doctors { " + "specialty { id } " * REPEATS + "} }" + f"\n# {n}"


async def _honest(url: str, seconds: float) -> list[float]:
    timings: list[float] = []
    async with http_client() as client:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            body = await graphql(client, url, HONEST)
            timings.append(time.perf_counter() - started)
            assert not body.get("errors"), body
    return timings


async def _sender(
    url: str, stop: asyncio.Event, codes: Counter[str | None], worker: int, hostile: bool
) -> None:
    async with http_client() as client:
        n = 0
        while not stop.is_set():
            n += 1
            unique = worker * 1_000_000 + n
            query = hostile_document(unique) if hostile else f"{BENIGN}\n# {unique}"
            body = await graphql(client, url, query)
            codes[error_code(body)] += 1


async def _send_until_stopped(url: str, hostile: bool) -> None:
    """The 8 senders, in a process of their own so their work does not slow the honest
    client's measurements; SIGTERM stops them, and the answers' codes go to stdout."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    codes: Counter[str | None] = Counter()
    await asyncio.gather(
        *(_sender(url, stop, codes, worker, hostile) for worker in range(HOSTILE_CLIENTS))
    )
    print(json.dumps({str(code): count for code, count in codes.items()}), flush=True)


async def _honest_beside(
    url: str, window_s: float, hostile: bool
) -> tuple[list[float], dict[str, int]]:
    """The honest client's timings while 8 others send (hostile or benign) documents, and
    the codes the others were answered with."""
    senders = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.b13_hostile_documents",
        url,
        "hostile" if hostile else "benign",
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        await asyncio.sleep(2.0)  # under way before the honest window opens
        timings = await _honest(url, window_s)
    finally:
        senders.send_signal(signal.SIGTERM)
        out, _ = await senders.communicate()
    codes: dict[str, int] = json.loads(out or b"{}")
    return timings, codes


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    window_s = 20.0 if sizes.b8_window_s >= 20 else 8.0
    db_name = f"aayulink_bench_b13_{uuid.uuid4().hex[:6]}"
    async with api_processes(store.uri, db_name, log_dir, count=1) as processes:
        url = processes[0].url
        await _honest(url, 2.0)  # warm-up: caches and connections
        alone = await _honest(url, window_s)
        busy, benign_codes = await _honest_beside(url, window_s, hostile=False)
        attacked, codes = await _honest_beside(url, window_s, hostile=True)
    reference, under_attack = latency_summary(alone), latency_summary(attacked)
    beside_benign = latency_summary(busy)
    return {
        "hostile_clients": HOSTILE_CLIENTS,
        "window_s": window_s,
        "honest_alone": reference,
        "honest_beside_benign": beside_benign,
        "honest_under_attack": under_attack,
        "p99_rise_ms": under_attack["p99_ms"] - reference["p99_ms"],
        "benign_p99_rise_ms": beside_benign["p99_ms"] - reference["p99_ms"],
        "hostile_answers": codes,
        "benign_answers": benign_codes,
        "target_rise_ms": TARGET_RISE_MS,
    }


if __name__ == "__main__":
    asyncio.run(_send_until_stopped(sys.argv[1], sys.argv[2] == "hostile"))

"""B4 memory: resident memory of an idle API process, and what each idle subscribed
WebSocket connection adds to it.

Every measurement uses a freshly started process: memory freed by an earlier batch of
connections stays in the allocator's pools and would hide the next batch's cost. Clients
offer permessage-deflate, as browsers and `gql` do; a second API run without compression
shows what the deflate state costs. The floor is a bare Starlette WebSocket route.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import data
from bench.b3_fanout import SET_AVAILABILITY, SUBSCRIPTION, _admin_token, _wait_until
from bench.common import Sizes, future_day, graphql, http_client, ratio
from bench.servers import Store, UvicornProcess, api_processes, floor_ws_process
from bench.ws import Subscriber, close_all, open_all

SETTLE_S = 2.0
WARM_CONNECTIONS = 10


async def _settled_rss(process: UvicornProcess) -> int:
    """RSS once the process has been quiet for a moment (the last of a few samples)."""
    samples = []
    for _ in range(4):
        await asyncio.sleep(SETTLE_S / 4)
        samples.append(process.rss_bytes())
    return samples[-1]


async def _floor_ready(process: UvicornProcess, count: int) -> bool:
    url = f"http://127.0.0.1:{process.port}/subscribers"
    async with httpx.AsyncClient(timeout=5) as client:

        async def held() -> int:
            return int((await client.get(url)).json()["subscribers"])

        deadline = time.monotonic() + 60
        while await held() < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
    return True


async def _measure(
    process: UvicornProcess,
    patients: list[data.Patient],
    doctor: str,
    probe_slots: list[str],
    compression: str | None,
    is_api: bool,
) -> dict[str, Any]:
    """Idle RSS, then RSS with one subscribed connection per patient; growth per connection."""
    heard: set[int] = set()
    probe = {"key": ""}

    def on_data(index: int) -> Any:
        def hear(payload: dict[str, Any], _: float) -> None:
            if payload["data"]["slotUpdates"]["slot"]["id"] == probe["key"]:
                heard.add(index)

        return hear

    def subscribers(group: list[data.Patient], offset: int) -> list[Subscriber]:
        return [
            Subscriber(
                process.ws_url,
                p.token,
                SUBSCRIPTION,
                {"doctor": doctor},
                on_data(offset + i),
                compression=compression,
            )
            for i, p in enumerate(group)
        ]

    admin = await _admin_token(process.url) if is_api else ""

    async def all_live(group: list[Subscriber], offset: int, slot: str) -> bool:
        if not is_api:
            return await _floor_ready(process, len(group))
        probe["key"] = slot
        async with http_client() as http:
            await graphql(
                http, process.url, SET_AVAILABILITY, {"id": slot, "available": False}, admin
            )
        wanted = set(range(offset, offset + len(group)))
        return await _wait_until(lambda: wanted <= heard, 60)

    fresh = process.rss_bytes()
    # Warm the code paths (first connection, first subscription, first event) before "idle".
    warm = subscribers(patients[:WARM_CONNECTIONS], 0)
    await open_all(warm)
    await all_live(warm, 0, probe_slots[0])
    await close_all(warm)
    idle = await _settled_rss(process)
    connections = subscribers(patients[WARM_CONNECTIONS:], WARM_CONNECTIONS)
    try:
        connect_s = await open_all(connections)
        live = await all_live(connections, WARM_CONNECTIONS, probe_slots[1])
        loaded = await _settled_rss(process)
    finally:
        await close_all(connections)
    return {
        "rss_fresh_bytes": fresh,
        "rss_idle_bytes": idle,
        "rss_with_connections_bytes": loaded,
        "connections": len(connections),
        "all_subscriptions_live": live,
        "connect_s": connect_s,
        "compression": compression or "none",
        "growth_per_connection_bytes": (loaded - idle) / len(connections),
    }


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    client, database = await data.open_database(store.uri, f"bench_b4_{uuid.uuid4().hex[:8]}")
    try:
        specialty = await data.add_specialty(database, "Bench Memory")
        (doctor,) = await data.add_doctors(database, specialty, 1, "B4 doctor")
        docs = data.slot_docs(doctor, specialty, future_day(5), 4, minutes=15)
        slots = [str(i) for i in await data.insert(database, "slots", docs, "B4 slots")]
        patients = await data.add_patients(
            database, sizes.b4_connections + WARM_CONNECTIONS, "B4 patients"
        )
        results: dict[str, Any] = {}
        for name, compression in (("api", "deflate"), ("api_no_compression", None)):
            async with api_processes(store.uri, database.name, log_dir, count=1) as (api,):
                probes = slots[:2] if compression else slots[2:]
                results[name] = await _measure(
                    api, patients, str(doctor), probes, compression, is_api=True
                )
        for name, compression in (("floor", "deflate"), ("floor_no_compression", None)):
            async with floor_ws_process(log_dir) as floor:
                results[name] = await _measure(
                    floor, patients, str(doctor), ["", ""], compression, is_api=False
                )
        for suffix in ("", "_no_compression"):
            api, floor_figures = results[f"api{suffix}"], results[f"floor{suffix}"]
            results[f"idle_rss_ratio{suffix}"] = ratio(
                api["rss_idle_bytes"], floor_figures["rss_idle_bytes"]
            )
            results[f"growth_ratio{suffix}"] = ratio(
                api["growth_per_connection_bytes"], floor_figures["growth_per_connection_bytes"]
            )
        return results
    finally:
        await client.close()

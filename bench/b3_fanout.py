"""B3 live fan-out: many patients subscribed to slotUpdates on two API processes; an admin
changes slots over HTTP; every subscriber must hear every change, quickly, cheaply.

Each phase (e.g. 100, then 1,000 subscribers) has a doctor and slots of its own, so no
phase hears another's changes. A warm-up change that everyone must hear first proves every
subscription is live (graphql-transport-ws never acknowledges a subscribe). The floor sends
the same number of messages through raw Redis pub/sub to as many redis-py subscribers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as redis

from bench import data
from bench.common import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    REDIS_URL,
    CpuMeter,
    Sizes,
    cpu_seconds,
    future_day,
    graphql,
    http_client,
    latency_summary,
    ratio,
)
from bench.servers import Store, UvicornProcess, api_processes
from bench.ws import Subscriber, close_all, open_all

SUBSCRIPTION = """subscription($doctor: ID!) {
  slotUpdates(doctorId: $doctor) { kind at slot { id startTime state isAvailable } }
}"""
SET_AVAILABILITY = """mutation($id: ID!, $available: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $available) { id isAvailable }
}"""
LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}"""
READY_TIMEOUT_S = 60.0


@dataclass
class Receipts:
    """When each subscriber heard each event, keyed by the event's key (a slot id)."""

    expected_keys: set[str] = field(default_factory=set)
    times: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    delivered: int = 0
    sample_bytes: int = 0

    def hear(self, key: str, at: float) -> None:
        self.times[key].append(at)
        if key in self.expected_keys:
            self.delivered += 1


async def _wait_until(done: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _paced(count: int, interval: float, send: Callable[[int], Awaitable[None]]) -> None:
    """Call send(k) for k < count, starting one every `interval` (never two at once)."""
    started = time.perf_counter()
    for k in range(count):
        delay = started + k * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(k)


def _latencies(
    receipts: Receipts, sent: dict[str, float], answered: dict[str, float] | None = None
) -> dict[str, Any]:
    """Receipt minus send time (and minus the mutation's response time, when there is one)."""
    from_send: list[float] = []
    from_answer: list[float] = []
    for key, at in sent.items():
        for heard in receipts.times.get(key, []):
            from_send.append(heard - at)
            if answered is not None:
                from_answer.append(heard - answered[key])
    figures = {"latency_from_send": latency_summary(from_send)}
    if answered is not None:
        figures["latency_from_response"] = latency_summary(from_answer)
    return figures


async def _app_phase(
    apis: list[UvicornProcess],
    admin: str,
    doctor: str,
    slot_ids: list[str],
    patients: list[data.Patient],
    sizes: Sizes,
) -> dict[str, Any]:
    receipts = Receipts()
    warm_key, measured = slot_ids[-1], slot_ids[: sizes.b3_events]
    warm_heard = collections.Counter[int]()

    def on_data(index: int) -> Callable[[dict[str, Any], float], None]:
        def hear(payload: dict[str, Any], at: float) -> None:
            key = payload["data"]["slotUpdates"]["slot"]["id"]
            if key == warm_key:
                warm_heard[index] += 1
            if not receipts.sample_bytes:
                receipts.sample_bytes = len(
                    json.dumps({"id": "1", "type": "next", "payload": payload})
                )
            receipts.hear(key, at)

        return hear

    subscribers = [
        Subscriber(
            apis[i % len(apis)].ws_url, p.token, SUBSCRIPTION, {"doctor": doctor}, on_data(i)
        )
        for i, p in enumerate(patients)
    ]
    figures: dict[str, Any] = {"subscribers": len(subscribers), "events": len(measured)}
    try:
        figures["connect_s"] = await open_all(subscribers)
        async with http_client() as http:
            change = {"id": warm_key, "available": False}
            await graphql(http, apis[0].url, SET_AVAILABILITY, change, admin)
            ready = await _wait_until(lambda: len(warm_heard) == len(subscribers), READY_TIMEOUT_S)
            figures["ready_subscribers"] = len(warm_heard)
            figures["ready"] = ready
            receipts.expected_keys = set(measured)
            sent: dict[str, float] = {}
            answered: dict[str, float] = {}
            errors: list[Any] = []

            async def send(k: int) -> None:
                key = measured[k]
                sent[key] = time.perf_counter()
                body = await graphql(
                    http,
                    apis[k % len(apis)].url,
                    SET_AVAILABILITY,
                    {"id": key, "available": False},
                    admin,
                )
                answered[key] = time.perf_counter()
                if body.get("errors"):
                    errors.append(body["errors"])

            meter = CpuMeter({"api": [a.pid for a in apis]})
            meter.start()
            started = time.perf_counter()
            await _paced(len(measured), sizes.b3_event_interval_s, send)
            expected = len(measured) * len(subscribers)
            await _wait_until(lambda: receipts.delivered >= expected, sizes.b3_drain_timeout_s)
            figures["wall_s"] = time.perf_counter() - started
            cpu = meter.stop()
        figures.update(
            {
                "delivered": receipts.delivered,
                "expected": expected,
                "delivered_share": receipts.delivered / expected if expected else 0.0,
                "api_cpu_s": cpu["api_cpu_s"],
                "api_cpu_s_per_event": cpu["api_cpu_s"] / len(measured),
                "message_bytes": receipts.sample_bytes,
                "mutation_latency": latency_summary([answered[k] - sent[k] for k in sent]),
                "mutation_errors": errors[:3],
                "ended_subscriptions": sum(1 for s in subscribers if s.ended),
                "ended_examples": [s.ended for s in subscribers if s.ended][:3],
                **_latencies(receipts, sent, answered),
            }
        )
        return figures
    finally:
        await close_all(subscribers)


async def _floor_phase(count: int, sizes: Sizes, payload_bytes: int) -> dict[str, Any]:
    """The same number of messages through raw Redis pub/sub to `count` redis-py subscribers."""
    channel = f"aayulink-bench-floor:{uuid.uuid4().hex[:12]}"
    pool = redis.ConnectionPool.from_url(REDIS_URL, max_connections=count + 8)
    client = redis.Redis(connection_pool=pool)
    receipts = Receipts()
    pubsubs = [client.pubsub(ignore_subscribe_messages=True) for _ in range(count)]
    readers: list[asyncio.Task[None]] = []

    async def read(pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                at = time.perf_counter()
                receipts.hear(json.loads(message["data"])["key"], at)

    try:
        gate = asyncio.Semaphore(50)

        async def subscribe(pubsub: Any) -> None:
            async with gate:
                await pubsub.subscribe(channel)

        await asyncio.gather(*(subscribe(p) for p in pubsubs))
        readers = [asyncio.create_task(read(p)) for p in pubsubs]

        numsub = 0
        while numsub < count:  # Redis acknowledges each SUBSCRIBE; NUMSUB says all are in
            numsub = int((await client.pubsub_numsub(channel))[0][1])
            await asyncio.sleep(0.02)
        redis_pid = int((await client.info("server"))["process_id"])
        keys = [f"event-{k}" for k in range(sizes.b3_events)]
        receipts.expected_keys = set(keys)
        sent: dict[str, float] = {}

        async def send(k: int) -> None:
            body = json.dumps({"key": keys[k]})
            body = body[:-1] + ', "pad": "' + "x" * max(0, payload_bytes - len(body) - 11) + '"}'
            sent[keys[k]] = time.perf_counter()
            await client.publish(channel, body)

        redis_cpu = _maybe_cpu(redis_pid)
        await _paced(len(keys), sizes.b3_event_interval_s, send)
        expected = len(keys) * count
        await _wait_until(lambda: receipts.delivered >= expected, sizes.b3_drain_timeout_s)
        redis_cpu_used = _maybe_cpu(redis_pid) - redis_cpu
        return {
            "subscribers": count,
            "events": len(keys),
            "payload_bytes": payload_bytes,
            "delivered": receipts.delivered,
            "expected": expected,
            "delivered_share": receipts.delivered / expected if expected else 0.0,
            "redis_cpu_s_per_event": redis_cpu_used / len(keys),
            **_latencies(receipts, sent),
        }
    finally:
        for reader in readers:
            reader.cancel()
        for reader in readers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        for pubsub in pubsubs:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        await client.aclose()
        await pool.aclose()


def _maybe_cpu(pid: int) -> float:
    """Redis's CPU when it runs on this machine; NaN where /proc does not show it."""
    try:
        return cpu_seconds(pid)
    except OSError:
        return float("nan")


async def _admin_token(url: str) -> str:
    async with http_client() as http:
        body = await graphql(http, url, LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    return str(body["data"]["login"]["accessToken"])


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    client, database = await data.open_database(store.uri, f"bench_b3_{uuid.uuid4().hex[:8]}")
    try:
        specialty = await data.add_specialty(database, "Bench Fan-out")
        doctors = await data.add_doctors(
            database, specialty, len(sizes.b3_subscribers), "B3 doctors"
        )
        slots: list[list[str]] = []
        for doctor in doctors:
            docs = data.slot_docs(doctor, specialty, future_day(5), sizes.b3_events + 1, minutes=15)
            slots.append([str(i) for i in await data.insert(database, "slots", docs, "B3 slots")])
        patients = await data.add_patients(database, max(sizes.b3_subscribers), "B3 patients")
        results: dict[str, Any] = {
            "event_interval_s": sizes.b3_event_interval_s,
            "api_processes": 2,
            "phases": {},
        }
        async with api_processes(store.uri, database.name, log_dir) as apis:
            admin = await _admin_token(apis[0].url)
            for doctor, slot_ids, count in zip(doctors, slots, sizes.b3_subscribers, strict=True):
                app = await _app_phase(apis, admin, str(doctor), slot_ids, patients[:count], sizes)
                floor = await _floor_phase(count, sizes, app["message_bytes"] or 400)
                results["phases"][str(count)] = {
                    "app": app,
                    "floor": floor,
                    "p50_ratio": ratio(
                        app["latency_from_send"]["p50_ms"], floor["latency_from_send"]["p50_ms"]
                    ),
                    "p99_ratio": ratio(
                        app["latency_from_send"]["p99_ms"], floor["latency_from_send"]["p99_ms"]
                    ),
                }
        low, high = (results["phases"][str(n)]["app"] for n in sizes.b3_subscribers)
        results["cpu_per_event_growth"] = ratio(
            high["api_cpu_s_per_event"], low["api_cpu_s_per_event"]
        )
        results["subscriber_growth"] = sizes.b3_subscribers[1] / sizes.b3_subscribers[0]
        return results
    finally:
        await client.close()

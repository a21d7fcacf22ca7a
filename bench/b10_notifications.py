"""B10 notifications: a rush of bookings, and every BOOKED email and webhook it implies.

1,000 patients each book their own slot at once over HTTP on two API processes whose senders
deliver to a local aiosmtpd sink and a local webhook receiver (both in this process, on
127.0.0.1). Checked: every email and webhook arrives, none twice. Measured: the time from a
booking's reply to its email's arrival (p50, p99), and the sender's throughput against a
floor: the same messages sent straight with aiosmtplib over as many connections, in the
same run (the best of three rounds). During the rush the sender waits among the bookings
(bookings first), so its first-to-last rate there is the rush's pace; its own is measured
on a backlog: as many bookings again, made while it writes nothing
(NOTIFICATION_OWED_GRACE_SECONDS of an hour), then drained by two fresh processes, first
email to last.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench import data
from bench.common import Sizes, error_code, future_day, graphql, http_client, latency_summary
from bench.servers import Store, UvicornProcess, api_env, free_port

BOOK = "mutation($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }"
WARM = "{ __typename }"
SLOTS_PER_DOCTOR = 50  # 15-minute slots from 06:00
SMTP_CONNECTIONS = 4
DELIVERY_WAIT_S = 300.0
P99_GOAL_S = 5.0
THROUGHPUT_GOAL = 0.5
FLOOR_ROUNDS = 3


@dataclass
class Sink:
    """What the SMTP sink and the webhook receiver heard, with when."""

    mails: list[tuple[float, EmailMessage]] = field(default_factory=list)
    hooks: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.mails.append((time.perf_counter(), message))
        return "250 OK"


class _Receiver(ThreadingHTTPServer):
    # Each sender posts a batch's webhooks at once: the default backlog of 5 refused
    # connections (ReadError), and the retries' backoff, not the sender, set webhook p99.
    request_queue_size = 1024


def _receiver(sink: Sink, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with sink.lock:
                sink.hooks.append(
                    (
                        time.perf_counter(),
                        self.headers.get("X-AayuLink-Delivery", ""),
                        json.loads(body),
                    )
                )
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = _Receiver(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _rush(
    patients: list[data.Patient], slot_ids: list[Any], urls: list[str]
) -> dict[str, float]:
    """Patient i books slot i; the reply time of each booking, by patient email index."""
    booked: dict[str, float] = {}
    async with http_client() as http:
        await asyncio.gather(*(graphql(http, urls[i % 2], WARM, {}) for i in range(50)))

        async def book(i: int) -> None:
            reply = await graphql(
                http, urls[i % 2], BOOK, {"i": {"slotId": str(slot_ids[i])}}, patients[i].token
            )
            if error_code(reply) is None:
                booked[reply["data"]["bookAppointment"]["id"]] = time.perf_counter()

        await asyncio.gather(*(book(i) for i in range(len(patients))))
    return booked


async def _all_heard(sink: Sink, expected: int) -> None:
    """Polls the sink until every email and webhook is in, or DELIVERY_WAIT_S has passed."""
    deadline = time.monotonic() + DELIVERY_WAIT_S
    while time.monotonic() < deadline:
        with sink.lock:
            if len(sink.mails) >= expected and len(sink.hooks) >= expected:
                return
        await asyncio.sleep(0.1)


async def _floor(messages: list[EmailMessage], port: int) -> float:
    """Seconds to send these messages straight with aiosmtplib, SMTP_CONNECTIONS at a time."""

    async def lane(share: list[EmailMessage]) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        for message in share:
            await client.send_message(message)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(lane(messages[i::SMTP_CONNECTIONS]) for i in range(SMTP_CONNECTIONS)))
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def _serving(env: dict[str, str], log_dir: Path) -> AsyncIterator[list[str]]:
    """Two API processes on `env`, ready; their URLs. Stopped on exit."""
    apis = [UvicornProcess("app.web.app:create_app", env, log_dir, factory=True) for _ in "ab"]
    try:
        for api in apis:
            api.spawn()
        await asyncio.gather(*(api.wait_ready() for api in apis))
        yield [api.url for api in apis]
    finally:
        for api in apis:
            api.stop()


async def _drain(
    database: Any, sink: Sink, env: dict[str, str], log_dir: Path, slot_ids: list[Any], count: int
) -> float:
    """The sender's own rate: `count` bookings made while it writes nothing, then sent by
    two fresh processes; emails a second, first arrival to last."""
    patients = await data.add_patients(database, count, "B10 backlog patients")
    before = len(sink.mails)
    async with _serving({**env, "NOTIFICATION_OWED_GRACE_SECONDS": "3600"}, log_dir) as urls:
        booked = await _rush(patients, slot_ids, urls)
    if len(sink.mails) != before:
        raise RuntimeError("B10: the held sender sent during the backlog's rush")
    async with _serving(env, log_dir):
        await _all_heard(sink, before + len(booked))
    with sink.lock:
        times = [at for at, _ in sink.mails[before:]]
    if len(times) < 2:
        return float("nan")
    return len(times) / (max(times) - min(times))


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    count = sizes.b10_bookings
    db_name = f"bench_b14_{uuid.uuid4().hex[:8]}"
    client, database = await data.open_database(store.uri, db_name)
    sink = Sink()
    smtp_port, hook_port = free_port(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    receiver = _receiver(sink, hook_port)
    try:
        specialty = await data.add_specialty(database, f"B10 {uuid.uuid4().hex[:6]}")
        doctors = await data.add_doctors(
            database, specialty, -(-2 * count // SLOTS_PER_DOCTOR), "B10 doctors"
        )
        docs = [
            doc
            for doctor in doctors
            for doc in data.slot_docs(
                doctor, specialty, future_day(3), SLOTS_PER_DOCTOR, minutes=15
            )
        ][: 2 * count]  # the rush's, then the backlog's
        slot_ids = data.object_ids(await data.insert(database, "slots", docs, "B10 slots"))
        patients = await data.add_patients(database, 2 * count, "B10 patients")
        channel = f"aayulink-bench:{uuid.uuid4().hex[:12]}"
        env = {
            **api_env(store.uri, db_name, channel),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_STARTTLS": "false",
            "SMTP_CONNECTIONS": str(SMTP_CONNECTIONS),
            "WEBHOOK_URLS": f"http://127.0.0.1:{hook_port}/hook",
            "WEBHOOK_SECRET": "bench-webhook-secret",
            "DATA_DIR": str(log_dir / "b14-data"),
        }
        async with _serving(env, log_dir) as urls:
            started = time.perf_counter()
            booked = await _rush(patients[:count], slot_ids[:count], urls)
            rush_s = time.perf_counter() - started
            await _all_heard(sink, len(booked))
            await asyncio.sleep(2.0)  # anything sent twice would arrive by now
        with sink.lock:
            mails, hooks = list(sink.mails), list(sink.hooks)
        drain_per_s = await _drain(database, sink, env, log_dir, slot_ids[count:], count)
        arrivals: dict[str, float] = {}
        message_ids = collections.Counter(str(m["Message-ID"]) for _, m in mails)
        hook_ids = collections.Counter(d for _, d, _ in hooks)
        for at, _, payload in hooks:
            appointment = (payload.get("appointment") or {}).get("id")
            if appointment is not None:
                arrivals.setdefault(f"hook:{appointment}", at)
        # An email names its appointment in its invite's UID.
        for at, message in mails:
            for part in message.iter_attachments():
                if part.get_content_type() == "text/calendar":
                    text = part.get_content()
                    uid = text.split("UID:appointment-", 1)[1].split("@", 1)[0]
                    arrivals.setdefault(f"mail:{uid}", at)
        mail_delays = [
            arrivals[f"mail:{a}"] - t for a, t in booked.items() if f"mail:{a}" in arrivals
        ]
        hook_delays = [
            arrivals[f"hook:{a}"] - t for a, t in booked.items() if f"hook:{a}" in arrivals
        ]
        times = sorted(at for at, _ in mails)
        sender_s = times[-1] - times[0] if len(times) > 1 else float("nan")
        floor_sink = Sink()
        floor_port = free_port()
        floor_controller = Controller(floor_sink, hostname="127.0.0.1", port=floor_port)
        floor_controller.start()
        try:
            # The best of FLOOR_ROUNDS: one round moved 137-182 emails/s between runs.
            floor_s = min(
                [await _floor([m for _, m in mails], floor_port) for _ in range(FLOOR_ROUNDS)]
            )
        finally:
            floor_controller.stop()
        sender_rate = len(mails) / sender_s if sender_s else float("nan")
        floor_rate = len(mails) / floor_s if floor_s else float("nan")
        mail_latency = latency_summary(mail_delays)
        return {
            "bookings": len(booked),
            "rush_s": rush_s,
            "emails": len(mails),
            "emails_twice": sum(1 for n in message_ids.values() if n > 1),
            "webhooks": len(hooks),
            "webhooks_twice": sum(1 for n in hook_ids.values() if n > 1),
            "all_delivered": len(mail_delays) == len(booked) == len(hook_delays),
            "mail_latency": mail_latency,
            "webhook_latency": latency_summary(hook_delays),
            "sender_per_s": sender_rate,
            "drain_per_s": drain_per_s,
            "floor_per_s": floor_rate,
            "p99_goal_s": P99_GOAL_S,
            "throughput_goal": THROUGHPUT_GOAL,
        }
    finally:
        receiver.shutdown()
        receiver.server_close()
        controller.stop()
        await client.drop_database(db_name)
        await client.close()

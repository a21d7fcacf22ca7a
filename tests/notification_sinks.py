"""Real receivers for what the sender delivers: an SMTP server (aiosmtpd) and a webhook
endpoint (the standard library's HTTP server), both on 127.0.0.1, each in its own thread."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.servers import free_port


@dataclass
class MailSink:
    """Keeps every message it accepts; `refuse(address)` answers that recipient with a code."""

    messages: list[EmailMessage] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.refusals.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


@contextmanager
def smtp_sink() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class Delivery:
    path: str
    delivery_id: str
    signature: str | None
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return self.signature is not None and hmac.compare_digest(self.signature, expected)


@dataclass
class WebhookReceiver:
    """POST /ok answers 204; /fail 500; /hang never answers in time; /moved 302."""

    port: int
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.path == path]


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.deliveries.append(
                    Delivery(
                        self.path,
                        self.headers.get("X-AayuLink-Delivery", ""),
                        self.headers.get("X-AayuLink-Signature"),
                        body,
                    )
                )
            if self.path == "/hang":
                time.sleep(3)
            status = {"/ok": 204, "/fail": 500, "/moved": 302, "/hang": 204}.get(self.path, 404)
            self.send_response(status)
            if status == 302:
                self.send_header("Location", receiver.url("/ok"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(free_port())
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


async def eventually[T](check: Callable[[], T], within: float = 20.0) -> T:
    """Polls until `check` returns something truthy (what is delivered arrives on its own)."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {check}")
        await asyncio.sleep(0.05)


async def until[T](check: Callable[[], Awaitable[T]], within: float = 20.0) -> T:
    """`eventually` for a check that asks the API or the store."""
    deadline = time.monotonic() + within
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {check}")
        await asyncio.sleep(0.05)


@dataclass
class BadSmtp:
    """A TCP server on 127.0.0.1 that speaks no SMTP: `hang` accepts and never greets,
    `drop` accepts and closes at once."""

    port: int
    mode: str = "hang"
    _server: asyncio.base_events.Server | None = None
    _held: list[asyncio.StreamWriter] = field(default_factory=list)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "drop":
            writer.close()
        else:
            self._held.append(writer)

    async def start(self) -> BadSmtp:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        for writer in self._held:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture(scope="module")
def mail() -> Iterator[tuple[MailSink, int]]:
    """A real SMTP sink for the module, and its port."""
    with smtp_sink() as found:
        yield found


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    """A real webhook receiver for the module."""
    with webhook_receiver() as receiver:
        yield receiver

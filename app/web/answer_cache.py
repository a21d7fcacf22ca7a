"""Anonymous GraphQL reads answered from the read model, kept and given again while they hold.

Public browsing (availableSlots, doctors(date)) repeats the same few requests, and with the
data in memory most of a request's time is GraphQL execution. An answer is kept only under
app/core/answers.py's conditions (same read-model version, no time rule due,
no aged entry, no store command, a query without errors), keyed by the exact request body,
and only for requests without an Authorization header: every anonymous caller sees the same
thing, so nothing one caller may see can reach another.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from app.core.answers import Answer
from app.core.clock import utcnow
from app.domain.read_model import current_model

MAX_KEPT = 1024
MAX_BODY_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024  # what all kept answers may hold together


@dataclass(frozen=True)
class Kept:
    body: bytes
    media_type: str
    answer: Answer


def is_anonymous_post(scope: Scope) -> bool:
    if scope.get("method") != "POST":
        return False
    return all(name != b"authorization" for name, _ in scope.get("headers", []))


def request_key(scope: Scope, body: bytes) -> bytes:
    """The path, the headers Strawberry's answer depends on, and the body."""
    headers = dict(scope.get("headers", []))
    parts = (headers.get(b"content-type", b""), headers.get(b"accept", b""), body)
    return b"\0".join((scope.get("path", "").encode(), *parts))


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """The body once more for Strawberry, then whatever the client sends next (a disconnect)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class AnswerCache:
    """The last MAX_KEPT answers that may be given again, least recently used out first."""

    def __init__(self) -> None:
        self.entries: OrderedDict[bytes, Kept] = OrderedDict()
        self.bytes = 0
        # The request running for a key that has no answer kept: the same request arriving
        # meanwhile waits for it rather than running too (32 at once would each pay the
        # whole execution, and none would be quicker for it).
        self.running: dict[bytes, asyncio.Future[None]] = {}

    async def wait_for_running(self, key: bytes) -> Kept | None:
        running = self.running.get(key)
        if running is None:
            return None
        await asyncio.shield(running)
        return self.get(key)

    def lead(self, key: bytes) -> Callable[[], None]:
        """Marks `key` as running; call what it returns once the answer is kept (or not)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.running.setdefault(key, done)

        def finish() -> None:
            if self.running.get(key) is done:
                del self.running[key]
            if not done.done():
                done.set_result(None)

        return finish

    def get(self, key: bytes) -> Kept | None:
        kept = self.entries.get(key)
        if kept is None:
            return None
        if not self._current(kept.answer) or not kept.answer.still_holds(utcnow()):
            self._forget(key)
            return None
        self.entries.move_to_end(key)
        return kept

    def begin(self) -> Answer | None:
        """What the request about to run starts from; None when the read model cannot serve."""
        model = current_model()
        if model is None or not model.serving() or model.epoch is None:
            return None
        return Answer(version=model.version, epoch=model.epoch, started_at=utcnow())

    def keep(self, key: bytes, answer: Answer, response: Response) -> None:
        body = bytes(response.body)
        if (
            answer.operation is None
            or answer.single_use
            or answer.touched_store
            or response.status_code != 200
            or len(body) > MAX_BODY_BYTES
            or not self._current(answer)
        ):
            return
        self._forget(key)
        self.entries[key] = Kept(body, response.media_type or "application/json", answer)
        self.bytes += len(key) + len(body)
        while len(self.entries) > MAX_KEPT or self.bytes > MAX_TOTAL_BYTES:
            self._forget(next(iter(self.entries)))

    def _forget(self, key: bytes) -> None:
        kept = self.entries.pop(key, None)
        if kept is not None:
            self.bytes -= len(key) + len(kept.body)

    @staticmethod
    def _current(answer: Answer) -> bool:
        model = current_model()
        return (
            model is not None
            and model.serving()
            and model.epoch == answer.epoch
            and model.version == answer.version
        )

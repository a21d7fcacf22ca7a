"""HTTP requests at shutdown: each finishes, or is answered SERVICE_UNAVAILABLE in JSON before
uvicorn's grace runs out, and every answer after the shutdown began closes its connection.

uvicorn cancels what is still running when its grace is over and answers a text/plain 500,
which a client cannot tell from a bug; and a response on a kept-alive connection carries no
`Connection: close` until uvicorn shuts connections down, so a client may send its next
request on a connection about to be closed. Its request may or may not have been saved
when it is cut short: retried with the same idempotency key, it finds what was saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.request_id import current_request_id
from app.settings import get_settings

log = logging.getLogger(__name__)
# How long before uvicorn's grace ends the unfinished requests are answered: time to send.
ANSWER_MARGIN_SECONDS = 0.5

_draining = False
_answer_now = asyncio.Event()


def begin(grace_seconds: float) -> None:
    """The shutdown began; requests still running in `grace_seconds` (less the margin) are
    answered SERVICE_UNAVAILABLE."""
    global _draining
    _draining = True
    asyncio.get_running_loop().call_later(
        max(0.0, grace_seconds - ANSWER_MARGIN_SECONDS), _answer_now.set
    )


def draining() -> bool:
    return _draining


def _unavailable_body() -> bytes:
    error = {
        "message": "The server is shutting down; try again shortly",
        "extensions": {
            "code": "SERVICE_UNAVAILABLE",
            "retryAfter": get_settings().store_retry_after_seconds,
            "requestId": current_request_id.get(),
        },
    }
    return json.dumps({"data": None, "errors": [error]}).encode()


class DrainingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = answered = False

        async def closing_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the client already has its answer
            if message["type"] == "http.response.start":
                started = True
                if _draining:
                    MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        handler = asyncio.ensure_future(self.app(scope, receive, closing_send))
        deadline = asyncio.ensure_future(_answer_now.wait())
        try:
            await asyncio.wait({handler, deadline}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.cancel()
        if handler.done():
            handler.result()
            return
        if started:
            await handler  # mid-answer: uvicorn's grace ends it, as before
            return
        # The grace is nearly over and this request has not answered.
        answered = True
        retry_after = str(get_settings().store_retry_after_seconds)
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", retry_after.encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _unavailable_body()})
        log.warning("answered %s SERVICE_UNAVAILABLE: shutting down", scope.get("path"))
        handler.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await handler

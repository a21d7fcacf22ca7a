"""The request id: set per HTTP request or WebSocket connection, carried into every log line."""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# When the HTTP request arrived (time.monotonic()): its store commands queue by it
# (app/store/command_order.py). None outside a request and on WebSocket connections.
request_started: ContextVar[float | None] = ContextVar("request_started", default=None)
# The client's address as the GraphQL view sees it; security events are audited with it.
current_client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


def new_request_id(given: str | None = None) -> str:
    """Accept a caller's id when it is sane, so logs correlate across services."""
    if given and len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return uuid.uuid4().hex


class AccessLogRedactor(logging.Filter):
    """Logs request paths without their query string: GET /graphql?query=... can hold a password."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True

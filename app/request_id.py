"""The request id: set per HTTP request or WebSocket connection, carried into every log line."""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def new_request_id(given: str | None = None) -> str:
    """Accept a caller's id when it is sane, so logs correlate across services."""
    if given and len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return uuid.uuid4().hex


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())

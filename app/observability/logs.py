"""Log lines as text or as one JSON object a line, each carrying who and what it was for."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

from app.core.request_id import AccessLogRedactor, current_request_id

current_operation: ContextVar[str | None] = ContextVar("operation", default=None)
current_user_id: ContextVar[str | None] = ContextVar("user_id", default=None)

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class RequestContextFilter(logging.Filter):
    """Adds the request id, and the operation and user id where one is running."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        if not hasattr(record, "operation"):
            record.operation = current_operation.get()
        if not hasattr(record, "user_id"):
            record.user_id = current_user_id.get()
        return True


class _JsonLines(JsonFormatter):
    """Leaves out empty context fields (and uvicorn's terminal colours): only what it knows."""

    def process_log_record(self, log_data: dict[str, object]) -> dict[str, object]:
        return {
            key: value
            for key, value in log_data.items()
            if value is not None and key != "color_message"
        }


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    if log_format == "json":
        handler.setFormatter(
            _JsonLines(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if log_format == "json":
        # uvicorn's own loggers have text handlers of their own; send them through ours.
        for name in UVICORN_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers[:] = []
            logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogRedactor) for f in access.filters):
        access.addFilter(AccessLogRedactor())

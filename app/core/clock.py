"""The one source of "now", so every rule compares against the same clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Tests move a whole server's time forward (CLOCK_OFFSET_SECONDS, APP_ENV=test only), so
# reminders and other timed work are tested without waiting for them.
_offset = timedelta(0)


def set_offset(seconds: float) -> None:
    global _offset
    _offset = timedelta(seconds=seconds)


def utcnow() -> datetime:
    """Now, truncated to milliseconds: what MongoDB keeps, so stored and fresh values compare."""
    now = datetime.now(UTC) + _offset
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)

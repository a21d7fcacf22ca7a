"""What one HTTP read was answered from, so its answer can be kept and given again.

An answer may be given again only while everything it was made of still holds: the read
model's version is the one it read (no event since, no drop), the clock has not reached an
instant where a time rule would change it (a slot's start, its booking-window edges, a
lock's expiry), no entry it read is past READ_MODEL_MAX_AGE_SECONDS, and it touched nothing
else: no store command, no error, a query. Anything else noted here makes it single-use.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Answer:
    version: int
    epoch: int
    started_at: datetime
    valid_until: datetime | None = None  # the first instant a time rule could change it
    fresh_until: float | None = None  # time.monotonic() when the oldest entry it read ages out
    touched_store: bool = False
    operation: str | None = None  # set once the operation ran as a query with no error
    single_use: bool = False  # an operation of the request was not a clean query

    def note_valid_until(self, instant: datetime) -> None:
        if self.valid_until is None or instant < self.valid_until:
            self.valid_until = instant

    def note_fresh_until(self, monotonic: float) -> None:
        if self.fresh_until is None or monotonic < self.fresh_until:
            self.fresh_until = monotonic

    def still_holds(self, now: datetime) -> bool:
        """The time conditions only; the caller checks the version and epoch."""
        if self.valid_until is not None and now >= self.valid_until:
            return False
        return self.fresh_until is None or time.monotonic() < self.fresh_until


_current: ContextVar[Answer | None] = ContextVar("read_model_answer", default=None)


def begin(answer: Answer) -> Token[Answer | None]:
    return _current.set(answer)


def end(token: Token[Answer | None]) -> None:
    _current.reset(token)


def current() -> Answer | None:
    return _current.get()


def since(now: datetime) -> datetime:
    """The earliest "now" the current answer may have been computed at: instants of time
    rules from then on must bound it (a DataLoader reads the clock later than the request)."""
    answer = _current.get()
    return now if answer is None else min(now, answer.started_at)


def note_store_command() -> None:
    """Called by the store command listener: the answer read the store, so it is single-use."""
    answer = _current.get()
    if answer is not None:
        answer.touched_store = True


def note_valid_until(instant: datetime) -> None:
    answer = _current.get()
    if answer is not None:
        answer.note_valid_until(instant)


def note_fresh_until(monotonic: float) -> None:
    answer = _current.get()
    if answer is not None:
        answer.note_fresh_until(monotonic)


def note_operation(operation: str, clean_query: bool) -> None:
    """Called once each operation of the request ran; only a query with no error (and no
    other operation in the same request that was not one) leaves the answer reusable."""
    answer = _current.get()
    if answer is None:
        return
    if clean_query and not answer.single_use:
        answer.operation = operation
    else:
        answer.single_use = True
        answer.operation = None

"""The contract's error codes, and the errors raised once where a rule fails.

app/schema/errors.py is the one place they become `extensions.code`; the schema documents
each code from `ErrorCode.meaning` (the `ErrorCode` enum in schema.graphql).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """Every `extensions.code` this service answers with: the contract's, then its own."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    UNAUTHENTICATED = "UNAUTHENTICATED", "No token, a bad signature, expired or revoked."
    FORBIDDEN = "FORBIDDEN", "Authenticated, but the role or ownership does not allow it."
    NOT_FOUND = (
        "NOT_FOUND",
        "The id does not exist (or is not visible to the caller); `field` names the input.",
    )
    BAD_USER_INPUT = "BAD_USER_INPUT", "Validation failed; `field` names the input field."
    CONFLICT = (
        "CONFLICT",
        "A unique value is taken, slots overlap, or the patient already has an appointment then.",
    )
    SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE", "The slot is disabled, removed, or in the past."
    SLOT_LOCKED = (
        "SLOT_LOCKED",
        "Another patient holds the slot; `expiresAt` says until when.",
    )
    SLOT_ALREADY_BOOKED = "SLOT_ALREADY_BOOKED", "The slot has an active appointment."
    LOCK_LIMIT_REACHED = (
        "LOCK_LIMIT_REACHED",
        "The patient already holds MAX_LOCKS_PER_PATIENT live locks; `limit` says how many.",
    )
    INVALID_TRANSITION = (
        "INVALID_TRANSITION",
        "The status change is not allowed from the current status.",
    )
    OUTSIDE_BOOKING_WINDOW = (
        "OUTSIDE_BOOKING_WINDOW",
        "The slot starts sooner than the doctor's minimum notice or further ahead than its "
        "maximum; `earliest` and `latest` give the window.",
    )
    TOO_LATE_TO_CANCEL = (
        "TOO_LATE_TO_CANCEL",
        "A patient cancels or reschedules after the cutoff; `cutoff` says when it was.",
    )
    RATE_LIMITED = "RATE_LIMITED", "Too many requests; `retryAfter` is in seconds."
    INTERNAL_SERVER_ERROR = (
        "INTERNAL_SERVER_ERROR",
        "Anything unexpected; masked, with a `requestId` that is also in the server's log.",
    )
    SUBSCRIBER_TOO_SLOW = (
        "SUBSCRIBER_TOO_SLOW",
        "Added: a subscriber fell more than SUBSCRIBER_QUEUE_SIZE events behind and was "
        "ended; resubscribe.",
    )
    QUERY_TOO_COMPLEX = (
        "QUERY_TOO_COMPLEX",
        "Added: the document's estimated cost is over MAX_QUERY_COST; `limit` gives it.",
    )
    SERVICE_UNAVAILABLE = (
        "SERVICE_UNAVAILABLE",
        "Added: the store cannot be reached or refuses writes; retry after `retryAfter` "
        "seconds (a mutation with an idempotencyKey is safe to retry).",
    )


class DomainError(Exception):
    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {k: v for k, v in extensions.items() if v is not None}


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str = "Not allowed") -> None:
        super().__init__(message)


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(f"{what} not found", field=field)


class BadUserInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class Conflict(DomainError):
    code = ErrorCode.CONFLICT

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class SlotUnavailable(DomainError):
    code = ErrorCode.SLOT_UNAVAILABLE

    def __init__(self, message: str = "The slot is not available") -> None:
        super().__init__(message)


class SlotLocked(DomainError):
    code = ErrorCode.SLOT_LOCKED

    def __init__(self, expires_at: datetime | None) -> None:
        super().__init__(
            "Another patient is holding this slot",
            expiresAt=expires_at.isoformat() if expires_at else None,
        )


class SlotAlreadyBooked(DomainError):
    code = ErrorCode.SLOT_ALREADY_BOOKED

    def __init__(self, message: str = "The slot is already booked") -> None:
        super().__init__(message)


class LockLimitReached(DomainError):
    code = ErrorCode.LOCK_LIMIT_REACHED

    def __init__(self, limit: int) -> None:
        super().__init__(f"A patient may hold at most {limit} slot locks at once", limit=limit)


class InvalidTransition(DomainError):
    code = ErrorCode.INVALID_TRANSITION

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(
            f"Cannot change an appointment from {current} to {requested}",
            currentStatus=current,
            requestedStatus=requested,
        )


class OutsideBookingWindow(DomainError):
    code = ErrorCode.OUTSIDE_BOOKING_WINDOW

    def __init__(self, earliest: datetime, latest: datetime) -> None:
        super().__init__(
            "The slot is outside the doctor's booking window",
            earliest=earliest.isoformat(),
            latest=latest.isoformat(),
        )


class TooLateToCancel(DomainError):
    code = ErrorCode.TOO_LATE_TO_CANCEL

    def __init__(self, cutoff: datetime) -> None:
        super().__init__(
            "It is too late to change this appointment; contact the clinic",
            cutoff=cutoff.isoformat(),
        )


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests; try again later", retryAfter=retry_after)


class SubscriberTooSlow(DomainError):
    """A subscriber fell so far behind that it was ended, rather than let memory grow."""

    code = ErrorCode.SUBSCRIBER_TOO_SLOW

    def __init__(self) -> None:
        super().__init__("This subscription fell too far behind and was ended; resubscribe")


class ServiceUnavailable(DomainError):
    """The store, not the request, stopped this change: the same request may succeed later."""

    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)

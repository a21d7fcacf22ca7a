"""Domain errors, raised once where a rule fails; app/schema/errors.py maps them to codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class DomainError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {k: v for k, v in extensions.items() if v is not None}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "Not allowed") -> None:
        super().__init__(message)


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(f"{what} not found", field=field)


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class Conflict(DomainError):
    code = "CONFLICT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class SlotUnavailable(DomainError):
    code = "SLOT_UNAVAILABLE"

    def __init__(self, message: str = "The slot is not available") -> None:
        super().__init__(message)


class SlotLocked(DomainError):
    code = "SLOT_LOCKED"

    def __init__(self, expires_at: datetime | None) -> None:
        super().__init__(
            "Another patient is holding this slot",
            expiresAt=expires_at.isoformat() if expires_at else None,
        )


class SlotAlreadyBooked(DomainError):
    code = "SLOT_ALREADY_BOOKED"

    def __init__(self, message: str = "The slot is already booked") -> None:
        super().__init__(message)


class LockLimitReached(DomainError):
    code = "LOCK_LIMIT_REACHED"

    def __init__(self, limit: int) -> None:
        super().__init__(f"A patient may hold at most {limit} slot locks at once", limit=limit)


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(
            f"Cannot change an appointment from {current} to {requested}",
            currentStatus=current,
            requestedStatus=requested,
        )


class OutsideBookingWindow(DomainError):
    code = "OUTSIDE_BOOKING_WINDOW"

    def __init__(self, earliest: datetime, latest: datetime) -> None:
        super().__init__(
            "The slot is outside the doctor's booking window",
            earliest=earliest.isoformat(),
            latest=latest.isoformat(),
        )


class TooLateToCancel(DomainError):
    code = "TOO_LATE_TO_CANCEL"

    def __init__(self, cutoff: datetime) -> None:
        super().__init__(
            "It is too late to change this appointment; contact the clinic",
            cutoff=cutoff.isoformat(),
        )


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests; try again later", retryAfter=retry_after)


class SubscriberTooSlow(DomainError):
    """A subscriber fell so far behind that it was ended, rather than let memory grow."""

    code = "SUBSCRIBER_TOO_SLOW"

    def __init__(self) -> None:
        super().__init__("This subscription fell too far behind and was ended; resubscribe")


class ServiceUnavailable(DomainError):
    """The store, not the request, stopped this change: the same request may succeed later."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)

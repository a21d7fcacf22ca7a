"""The contract's enums are the domain's own, registered with Strawberry under their names."""

from __future__ import annotations

import strawberry

from app.core.errors import ErrorCode
from app.domain.slots.state import SlotState
from app.events.messages import AppointmentEventKind, EventsMissedReason, SlotEventKind
from app.models import AppointmentStatus, Role, Weekday

for _enum in (Role, SlotState, AppointmentStatus, SlotEventKind, AppointmentEventKind, Weekday):
    strawberry.enum(_enum)
strawberry.enum(
    EventsMissedReason,
    description="REDIS_RECONNECTED: this server's event link broke and came back; "
    "PUBLISH_FAILED: some server's events did not reach the others; "
    "SLOTS_CHANGED_IN_BULK: one doctor's slots changed all at once (doctorId says whose).",
)
strawberry.enum(
    ErrorCode,
    description="Every `extensions.code` an error may carry: the contract's, then the added.",
)
# Each code's meaning is written once, beside the code in app/core/errors.py.
for _value in ErrorCode.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = ErrorCode[_value.name].meaning

__all__ = [
    "AppointmentEventKind",
    "AppointmentStatus",
    "ErrorCode",
    "EventsMissedReason",
    "Role",
    "SlotEventKind",
    "SlotState",
    "Weekday",
]

"""The contract's enums are the domain's own, registered with Strawberry under their names."""

from __future__ import annotations

import strawberry

from app.domain.slots.state import SlotState
from app.events.messages import AppointmentEventKind, SlotEventKind
from app.models import AppointmentStatus, Role, Weekday

for _enum in (Role, SlotState, AppointmentStatus, SlotEventKind, AppointmentEventKind, Weekday):
    strawberry.enum(_enum)

__all__ = [
    "AppointmentEventKind",
    "AppointmentStatus",
    "Role",
    "SlotEventKind",
    "SlotState",
    "Weekday",
]

"""The contract's enums, exposed from the domain's own."""

from __future__ import annotations

import strawberry

from app.domain.slot_state import SlotState as DomainSlotState
from app.events.messages import AppointmentEventKind as DomainAppointmentEventKind
from app.events.messages import SlotEventKind as DomainSlotEventKind
from app.models import AppointmentStatus as DomainAppointmentStatus
from app.models import Role as DomainRole

Role = strawberry.enum(DomainRole, name="Role")
SlotState = strawberry.enum(DomainSlotState, name="SlotState")
AppointmentStatus = strawberry.enum(DomainAppointmentStatus, name="AppointmentStatus")
SlotEventKind = strawberry.enum(DomainSlotEventKind, name="SlotEventKind")
AppointmentEventKind = strawberry.enum(DomainAppointmentEventKind, name="AppointmentEventKind")

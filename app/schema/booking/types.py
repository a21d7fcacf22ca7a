"""Appointments, emergency requests, and the events that announce them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry
from beanie import PydanticObjectId

from app.core.errors import Forbidden
from app.domain.audit.shown import history_shown_to
from app.domain.booking.appointment_times import end_time_in_zone
from app.domain.visibility import may_see_account, may_see_history
from app.models import Appointment as AppointmentDoc
from app.models import EmergencyRequest as EmergencyRequestDoc
from app.models import Slot as SlotDoc
from app.schema.audit.types import AuditEntry
from app.schema.catalog.types import (
    Doctor,
    Slot,
    Specialty,
    User,
    load_doctor,
    load_specialty,
    load_user,
)
from app.schema.context import Info
from app.schema.enums import AppointmentEventKind, AppointmentStatus, EventsMissedReason, Role
from app.schema.paging import PageInfo


@strawberry.type
class Appointment:
    id: strawberry.ID
    appointment_date: date
    appointment_time: str
    status: AppointmentStatus
    reason_for_visit: str | None
    notes: str | None
    virtual_meeting_link: str | None
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None
    cancellation_reason: str | None
    checked_in_at: datetime | None = strawberry.field(
        description="The patient arrived (front desk or doctor)."
    )
    no_show_at: datetime | None
    created_at: datetime
    updated_at: datetime
    doc: strawberry.Private[AppointmentDoc]
    # The slot a booking or move just wrote: shown as written, with no read to fail after it.
    written_slot: strawberry.Private[SlotDoc | None] = None
    # In a RESCHEDULED event: the doctor it left, who is shown it (history too) in that event.
    previous_doctor_id: strawberry.Private[PydanticObjectId | None] = None

    @classmethod
    def from_doc(
        cls,
        doc: AppointmentDoc,
        written_slot: SlotDoc | None = None,
        previous_doctor_id: PydanticObjectId | None = None,
    ) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)),
            appointment_date=date.fromisoformat(doc.appointment_date),
            appointment_time=doc.appointment_time,
            status=doc.status,
            reason_for_visit=doc.reason_for_visit,
            notes=doc.notes,
            virtual_meeting_link=doc.virtual_meeting_link,
            starts_at=doc.starts_at,
            ends_at=doc.ends_at,
            cancelled_at=doc.cancelled_at,
            cancellation_reason=doc.cancellation_reason,
            checked_in_at=doc.checked_in_at,
            no_show_at=doc.no_show_at,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            doc=doc,
            written_slot=written_slot,
            previous_doctor_id=previous_doctor_id,
        )

    @strawberry.field(description='"HH:MM" in the doctor\'s timezone.')
    async def end_time(self, info: Info) -> str:
        if self.doc.end_time is not None:
            return self.doc.end_time
        doctor = await info.context.loaders.doctor.load(self.doc.doctor_id)
        assert doctor is not None, f"doctor {self.doc.doctor_id} is missing"
        return end_time_in_zone(self.doc, doctor.timezone)

    @strawberry.field(
        description="Who cancelled it; null while it is not cancelled, and to a patient or "
        "doctor when an account other than their own or the patient's did (cancelledByRole "
        "then says its role)."
    )
    async def cancelled_by(self, info: Info) -> User | None:
        who = self.doc.cancelled_by
        if who is None or not may_see_account(info.context.actor, who, self.doc):
            return None
        found = await info.context.loaders.user.load(who)
        return User.from_doc(found) if found is not None else None

    @strawberry.field(description="The role of the account that cancelled it, for every reader.")
    async def cancelled_by_role(self, info: Info) -> Role | None:
        if self.doc.cancelled_by is None:
            return None
        found = await info.context.loaders.user.load(self.doc.cancelled_by)
        return found.role if found is not None else None

    @strawberry.field
    async def patient(self, info: Info) -> User:
        return await load_user(info, self.doc.patient_id)

    @strawberry.field
    async def doctor(self, info: Info) -> Doctor:
        return await load_doctor(info, self.doc.doctor_id)

    @strawberry.field
    async def specialty(self, info: Info) -> Specialty:
        return await load_specialty(info, self.doc.specialty_id)

    @strawberry.field
    async def slot(self, info: Info) -> Slot:
        if self.written_slot is not None:
            return Slot.from_doc(self.written_slot)
        doc = await info.context.loaders.slot.load(self.doc.slot_id)
        assert doc is not None, f"slot {self.doc.slot_id} is missing"
        return Slot.from_doc(doc)

    @strawberry.field(description="Who did what to it, oldest first.")
    async def history(self, info: Info) -> list[AuditEntry]:
        reader = info.context.actor
        if not may_see_history(reader, self.doc, self.previous_doctor_id):
            raise Forbidden("Only its patient, its doctor or an admin sees its history")
        found = await info.context.loaders.appointment_history.load(self.doc.id)  # type: ignore[arg-type]
        return [AuditEntry.from_shown(e) for e in history_shown_to(reader, self.doc, found)]


@strawberry.type
class AppointmentEdge:
    cursor: str
    node: Appointment


@strawberry.type
class AppointmentConnection:
    edges: list[AppointmentEdge]
    page_info: PageInfo


@strawberry.type
class EmergencyRequest:
    id: strawberry.ID
    message: str
    created_at: datetime
    doc: strawberry.Private[EmergencyRequestDoc]

    @classmethod
    def from_doc(cls, doc: EmergencyRequestDoc) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)), message=doc.message, created_at=doc.created_at, doc=doc
        )

    @strawberry.field
    async def patient(self, info: Info) -> User:
        return await load_user(info, self.doc.patient_id)

    @strawberry.field
    async def specialty(self, info: Info) -> Specialty | None:
        return await load_specialty(info, self.doc.specialty_id) if self.doc.specialty_id else None

    @strawberry.field
    async def doctor(self, info: Info) -> Doctor | None:
        return await load_doctor(info, self.doc.doctor_id) if self.doc.doctor_id else None


@strawberry.type
class AppointmentEvent:
    kind: AppointmentEventKind
    appointment: Appointment
    at: datetime


@strawberry.type(description="Live events may have been missed or delayed: re-query what you show.")
class EventsMissed:
    at: datetime = strawberry.field(description="When this server noticed.")
    reason: EventsMissedReason = strawberry.field(
        description="Why, for logs and support; the remedy is the same for every reason."
    )
    doctor_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="SLOTS_CHANGED_IN_BULK: the doctor whose slots changed; re-query those.",
    )

"""The catalogue's types (specialties, doctors, slots, accounts), in one module because they
point at one another: no import goes round, and no type is looked up lazily."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

import strawberry
from beanie import PydanticObjectId

from app.core.errors import Forbidden
from app.domain.booking import policy
from app.domain.notifications.profile import calendar_feed_url
from app.domain.notifications.recipients import zone_of
from app.domain.patients import phones
from app.domain.scheduling import schedules
from app.domain.slots import bookable
from app.domain.slots.state import lock_is_live, slot_state
from app.models import Doctor as DoctorDoc
from app.models import Slot as SlotDoc
from app.models import Specialty as SpecialtyDoc
from app.models import User as UserDoc
from app.schema.catalog.day_availability import DayAvailability
from app.schema.context import Info
from app.schema.enums import Role, SlotState
from app.schema.notifications.preferences import NotificationPreferences
from app.schema.scheduling.hours import DateOverride, Schedule
from app.settings import get_settings


async def load_specialty(info: Info, specialty_id: PydanticObjectId) -> Specialty:
    doc = await info.context.loaders.specialty.load(specialty_id)
    assert doc is not None, f"specialty {specialty_id} is missing"
    return Specialty.from_doc(doc)


async def load_doctor(info: Info, doctor_id: PydanticObjectId) -> Doctor:
    doc = await info.context.loaders.doctor.load(doctor_id)
    assert doc is not None, f"doctor {doctor_id} is missing"
    return Doctor.from_doc(doc)


async def load_user(info: Info, user_id: PydanticObjectId) -> User:
    doc = await info.context.loaders.user.load(user_id)
    assert doc is not None, f"user {user_id} is missing"
    return User.from_doc(doc)


@strawberry.type
class User:
    id: strawberry.ID
    email: str | None = strawberry.field(
        description="Null for a walk-in registered at the front desk (who cannot sign in)."
    )
    name: str
    phone: str | None = strawberry.field(description="International format; stored in E.164.")
    role: Role
    created_at: datetime
    doc: strawberry.Private[UserDoc]

    @classmethod
    def from_doc(cls, doc: UserDoc) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)),
            email=doc.email,
            name=doc.name,
            phone=phones.shown(doc.phone),
            role=doc.role,
            created_at=doc.created_at,
            doc=doc,
        )

    @strawberry.field
    async def doctor(self, info: Info) -> Doctor | None:
        return await load_doctor(info, self.doc.doctor_id) if self.doc.doctor_id else None

    @strawberry.field(description="IANA; all times shown to this user are in it.")
    async def timezone(self, info: Info) -> str:
        if self.doc.timezone is None and self.doc.doctor_id is not None:
            doctor = await info.context.loaders.doctor.load(self.doc.doctor_id)
            return zone_of(self.doc, doctor.timezone if doctor else None)
        return zone_of(self.doc)

    @strawberry.field(description="Self or ADMIN.")
    def notification_preferences(self, info: Info) -> NotificationPreferences:
        actor = info.context.actor
        if actor is None or not (actor.is_admin or actor.user_id == self.doc.id):
            raise Forbidden("Only the user or an admin sees notification preferences")
        return NotificationPreferences.from_user(self.doc)

    @strawberry.field(description="Self only: the secret URL of this user's iCalendar feed.")
    async def calendar_feed_url(self, info: Info) -> str:
        actor = info.context.actor
        if actor is None or actor.user_id != self.doc.id:
            raise Forbidden("Only the user sees their calendar feed URL")
        return await calendar_feed_url(self.doc)


@strawberry.type
class Specialty:
    id: strawberry.ID
    name: str
    description: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    doc: strawberry.Private[SpecialtyDoc]

    @classmethod
    def from_doc(cls, doc: SpecialtyDoc) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)),
            name=doc.name,
            description=doc.description,
            is_active=doc.is_active,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            doc=doc,
        )

    @strawberry.field(description="Active doctors of this specialty.")
    async def doctors(self, info: Info) -> list[Doctor]:
        docs = await info.context.loaders.specialty_doctors.load(self.doc.id)  # type: ignore[arg-type]
        return [Doctor.from_doc(d) for d in docs]


@strawberry.type
class Doctor:
    id: strawberry.ID
    name: str
    email: str
    phone: str | None
    license_number: str
    consultation_fee: float
    is_active: bool
    profile_image: str | None
    timezone: str = strawberry.field(
        description="IANA zone in which date/startTime/endTime of its slots are read."
    )
    created_at: datetime
    updated_at: datetime
    slots_regenerating_from: datetime | None = strawberry.field(
        description="Set while a time zone change regenerates its schedule's later slots."
    )
    doc: strawberry.Private[DoctorDoc]

    @classmethod
    def from_doc(cls, doc: DoctorDoc) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)),
            name=doc.name,
            email=doc.email,
            phone=doc.phone,
            license_number=doc.license_number,
            consultation_fee=doc.consultation_fee,
            is_active=doc.is_active,
            profile_image=doc.profile_image,
            timezone=doc.timezone,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            slots_regenerating_from=doc.regenerating_from,
            doc=doc,
        )

    @strawberry.field
    async def specialty(self, info: Info) -> Specialty:
        return await load_specialty(info, self.doc.specialty_id)

    @strawberry.field(description="ISO 4217 code of consultationFee (the CLINIC_CURRENCY).")
    def consultation_fee_currency(self) -> str:
        return get_settings().clinic_currency

    @strawberry.field(description="Booking policy: how many minutes ahead a patient must book.")
    def min_notice_minutes(self) -> int:
        return policy.min_notice_minutes(self.doc)

    @strawberry.field(description="Booking policy: how many days ahead a patient may book.")
    def max_days_ahead(self) -> int:
        return policy.max_days_ahead(self.doc)

    @strawberry.field(
        description="Bookable now: AVAILABLE, future, inside the booking window, by start."
    )
    async def available_slots(self, info: Info, date: date) -> list[Slot]:
        docs = await info.context.loaders.bookable_slots.load((self.doc.id, date))  # type: ignore[arg-type]
        return [Slot.from_doc(d) for d in bookable.in_window(self.doc, docs, info.context.now)]

    @strawberry.field(description="Every live slot of the day with its state; no patient data.")
    async def day_slots(self, info: Info, date: date) -> list[Slot]:
        docs = await info.context.loaders.day_slots.load((self.doc.id, date))  # type: ignore[arg-type]
        return [Slot.from_doc(d) for d in docs]

    @strawberry.field(description="Per date, the slots a patient could book now; 62 days at most.")
    async def availability(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> list[DayAvailability]:
        days = await bookable.availability(self.doc, from_, to, info.context.now)
        return [DayAvailability(date=day.date, bookable=day.bookable) for day in days]

    @strawberry.field(description="The earliest slot a patient could book now, or null.")
    async def next_available_slot(self, info: Info) -> Slot | None:
        doc = await info.context.loaders.next_available_slot.load(self.doc)
        return Slot.from_doc(doc) if doc is not None else None

    @strawberry.field(description="Recurring working hours; null when slots are made by hand.")
    def schedule(self) -> Schedule | None:
        return Schedule.from_doc(self.doc.schedule) if self.doc.schedule else None

    @strawberry.field(description="Dates whose hours differ from the weekly ones, by date.")
    async def date_overrides(
        self, from_: Annotated[date, strawberry.argument(name="from")], to: date
    ) -> list[DateOverride]:
        found = await schedules.date_overrides(self.doc.id, from_, to)  # type: ignore[arg-type]
        return [DateOverride.from_doc(o) for o in found]


@strawberry.type
class SlotLock:
    locked_at: datetime
    expires_at: datetime
    locked_by_me: bool
    holder_id: strawberry.Private[PydanticObjectId | None]

    @strawberry.field(description="The holder; null unless the caller is ADMIN.")
    async def patient(self, info: Info) -> User | None:
        actor = info.context.actor
        if actor is None or not actor.is_admin or self.holder_id is None:
            return None
        return await load_user(info, self.holder_id)


@strawberry.type
class Slot:
    id: strawberry.ID
    date: date
    start_time: str
    end_time: str
    duration_minutes: int
    starts_at: datetime
    ends_at: datetime
    is_available: bool
    is_booked: bool
    created_at: datetime
    updated_at: datetime
    doc: strawberry.Private[SlotDoc]
    seen_at: strawberry.Private[datetime | None] = None  # an event's own "now"

    @classmethod
    def from_doc(cls, doc: SlotDoc, now: datetime | None = None) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)),
            date=date.fromisoformat(doc.date),
            start_time=doc.start_time,
            end_time=doc.end_time,
            duration_minutes=doc.duration_minutes,
            starts_at=doc.starts_at,
            ends_at=doc.ends_at,
            is_available=doc.is_available and not doc.is_removed,
            is_booked=doc.is_booked,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            doc=doc,
            seen_at=now,
        )

    @strawberry.field
    async def doctor(self, info: Info) -> Doctor:
        return await load_doctor(info, self.doc.doctor_id)

    @strawberry.field(description="Its own, or else its doctor's.")
    async def specialty(self, info: Info) -> Specialty:
        own = self.doc.specialty_id
        if own is None:
            own = (await load_doctor(info, self.doc.doctor_id)).doc.specialty_id
        return await load_specialty(info, own)

    @strawberry.field(description="UNAVAILABLE > BOOKED > LOCKED (unexpired lock) > AVAILABLE.")
    async def state(self, info: Info) -> SlotState:
        doctor = await info.context.loaders.doctor.load(self.doc.doctor_id)
        return slot_state(self.doc, self.seen_at or info.context.now, doctor)

    @strawberry.field(description="Null when there is no unexpired lock.")
    def lock(self, info: Info) -> SlotLock | None:
        lock = self.doc.booking_lock
        if not lock_is_live(self.doc, self.seen_at or info.context.now) or self.doc.is_booked:
            return None
        actor = info.context.actor
        assert lock.locked_at is not None and lock.expires_at is not None
        return SlotLock(
            locked_at=lock.locked_at,
            expires_at=lock.expires_at,
            locked_by_me=actor is not None and lock.patient_id == actor.user_id,
            holder_id=lock.patient_id,
        )

"""The contract's input types."""

from __future__ import annotations

from datetime import date

import strawberry

from app.domain.catalog.doctors import DoctorFields


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str
    phone: str | None = None
    timezone: str | None = strawberry.field(
        default=None, description="IANA; defaults to the clinic's (CLINIC_TIMEZONE)."
    )


@strawberry.input
class BookAppointmentInput:
    slot_id: strawberry.ID
    doctor_id: strawberry.ID | None = None
    reason_for_visit: str | None = None
    patient_id: strawberry.ID | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with a key this patient already used returns that appointment.",
    )


@strawberry.input
class SpecialtyInput:
    name: str
    description: str | None = None


@strawberry.input
class SpecialtyUpdateInput:
    name: str | None = None
    description: str | None = None
    is_active: bool | None = None


@strawberry.input
class DoctorInput:
    name: str
    email: str
    specialty_id: strawberry.ID
    license_number: str
    phone: str | None = None
    consultation_fee: float | None = 0
    timezone: str | None = None
    profile_image: str | None = None
    password: str | None = None
    min_notice_minutes: int | None = None
    max_days_ahead: int | None = None

    def fields(self) -> DoctorFields:
        return DoctorFields(
            name=self.name,
            email=self.email,
            phone=self.phone,
            specialty_id=self.specialty_id,
            license_number=self.license_number,
            consultation_fee=self.consultation_fee,
            timezone=self.timezone,
            profile_image=self.profile_image,
            min_notice_minutes=self.min_notice_minutes,
            max_days_ahead=self.max_days_ahead,
        )


@strawberry.input
class DoctorUpdateInput:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    specialty_id: strawberry.ID | None = None
    license_number: str | None = None
    consultation_fee: float | None = None
    timezone: str | None = None
    profile_image: str | None = None
    is_active: bool | None = None
    min_notice_minutes: int | None = None
    max_days_ahead: int | None = None

    def fields(self) -> DoctorFields:
        return DoctorFields(
            name=self.name,
            email=self.email,
            phone=self.phone,
            specialty_id=self.specialty_id,
            license_number=self.license_number,
            consultation_fee=self.consultation_fee,
            timezone=self.timezone,
            profile_image=self.profile_image,
            is_active=self.is_active,
            min_notice_minutes=self.min_notice_minutes,
            max_days_ahead=self.max_days_ahead,
        )


@strawberry.input
class SlotInput:
    date: date
    start_time: str
    end_time: str
    specialty_id: strawberry.ID | None = None
    duration_minutes: int | None = None


@strawberry.input
class EmergencyRequestInput:
    message: str
    specialty_id: strawberry.ID | None = None
    doctor_id: strawberry.ID | None = None

"""The catalogue's inputs: specialties and doctors."""

from __future__ import annotations

import strawberry

from app.domain.catalog.doctors import DoctorFields


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

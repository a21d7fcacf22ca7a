"""The catalogue's inputs: specialties and doctors."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields

import strawberry

from app.domain.catalog.doctors import DoctorFields


def doctor_fields(given: DoctorInput | DoctorUpdateInput) -> DoctorFields:
    """The domain's fields, each taken from the input of the same name (an input without one,
    such as DoctorInput's isActive, leaves it unset)."""
    return DoctorFields(
        **{
            field.name: getattr(given, field.name)
            for field in dataclass_fields(DoctorFields)
            if hasattr(given, field.name)
        }
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
class DoctorInput(DoctorFields):
    """The domain's DoctorFields with what a new doctor needs required; a new doctor is active
    (isActive is not asked) and may be given a password for its DOCTOR login."""

    # strawberry.field(): a bare annotation would inherit DoctorFields' None as its default,
    # which introspection refuses for a required field ("Invalid default value").
    name: str = strawberry.field()
    email: str = strawberry.field()
    specialty_id: strawberry.ID = strawberry.field()
    license_number: str = strawberry.field()
    consultation_fee: float | None = 0
    is_active: strawberry.Private[bool | None] = None
    password: str | None = None

    def fields(self) -> DoctorFields:
        return doctor_fields(self)


@strawberry.input
class DoctorUpdateInput(DoctorFields):
    """Every field of the domain's DoctorFields, each optional: only what is given changes."""

    specialty_id: strawberry.ID | None = None

    def fields(self) -> DoctorFields:
        return doctor_fields(self)

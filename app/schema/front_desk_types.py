"""The front desk's types: pages of patients, and a walk-in patient's details."""

from __future__ import annotations

from datetime import date

import strawberry

from app.domain.patients.registration import PatientFields
from app.schema.catalog.types import User
from app.schema.paging import PageInfo


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo


@strawberry.input(description="A phone or an email is required.")
class PatientInput:
    name: str
    phone: str | None = None
    email: str | None = None
    timezone: str | None = None
    date_of_birth: date | None = None

    def fields(self) -> PatientFields:
        return PatientFields(
            name=self.name,
            phone=self.phone,
            email=self.email,
            timezone=self.timezone,
            date_of_birth=self.date_of_birth,
        )

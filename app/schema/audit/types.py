"""The audit log's types: AuditEntry and its connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry.scalars import JSON

from app.domain.audit.shown import ShownEntry, in_full
from app.models import AuditEntry as AuditEntryDoc
from app.models import User as UserDoc
from app.schema.catalog.types import Doctor, User
from app.schema.context import Info
from app.schema.enums import Role
from app.schema.paging import PageInfo


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    at: datetime
    action: str = strawberry.field(description='e.g. "appointment.rescheduled", "slot.locked".')
    entity_type: str
    entity_id: strawberry.ID
    before: dict[str, Any] | None = strawberry.field(
        graphql_type=JSON | None, description="The changed fields only, as they were."
    )
    after: dict[str, Any] | None = strawberry.field(
        graphql_type=JSON | None, description="The changed fields only, as they became."
    )
    request_id: str | None
    address: str | None = strawberry.field(
        description="The client's address, on security events (sign-in, sign-out); admins only."
    )
    doc: strawberry.Private[AuditEntryDoc]
    shows_actor: strawberry.Private[bool]

    @classmethod
    def from_doc(cls, doc: AuditEntryDoc) -> Self:
        """In full: the admins' log."""
        return cls.from_shown(in_full(doc))

    @classmethod
    def from_shown(cls, shown: ShownEntry) -> Self:
        """As the domain decided its reader sees it (app/domain/audit/shown.py)."""
        doc = shown.entry
        return cls(
            id=strawberry.ID(str(doc.id)),
            at=doc.at,
            action=doc.action,
            entity_type=doc.entity_type,
            entity_id=strawberry.ID(str(doc.entity_id)),
            before=shown.before,
            after=shown.after,
            request_id=doc.request_id,
            address=doc.address if shown.shows_address else None,
            doc=doc,
            shows_actor=shown.shows_actor,
        )

    async def _account(self, info: Info) -> UserDoc | None:
        if self.doc.actor_id is None:
            return None
        return await info.context.loaders.user.load(self.doc.actor_id)

    @strawberry.field(
        description="Null: the server itself (lock expiry, reconciler, roll-forward), or, in "
        "an appointment's history, an account the reader may not see (an admin or another "
        "doctor, to a patient or doctor): actorRole and actorDoctor say who it was."
    )
    async def actor(self, info: Info) -> User | None:
        if not self.shows_actor:
            return None
        found = await self._account(info)
        return User.from_doc(found) if found is not None else None

    @strawberry.field(description="The acting account's role; null only for the server itself.")
    async def actor_role(self, info: Info) -> Role | None:
        found = await self._account(info)
        return found.role if found is not None else None

    @strawberry.field(description="The doctor's public profile when a doctor's account acted.")
    async def actor_doctor(self, info: Info) -> Doctor | None:
        found = await self._account(info)
        if found is None or found.doctor_id is None:
            return None
        doctor = await info.context.loaders.doctor.load(found.doctor_id)
        return Doctor.from_doc(doctor) if doctor is not None else None


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo

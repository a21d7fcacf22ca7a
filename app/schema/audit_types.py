"""The audit log's types: AuditEntry and its connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry.scalars import JSON

from app.models import AuditEntry as AuditEntryDoc
from app.schema.context import Info
from app.schema.types import PageInfo, User


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
    doc: strawberry.Private[AuditEntryDoc]

    @classmethod
    def from_doc(cls, doc: AuditEntryDoc) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)),
            at=doc.at,
            action=doc.action,
            entity_type=doc.entity_type,
            entity_id=strawberry.ID(str(doc.entity_id)),
            before=doc.before,
            after=doc.after,
            request_id=doc.request_id,
            doc=doc,
        )

    @strawberry.field(description="Null: the server (lock expiry, reconciler, roll-forward).")
    async def actor(self, info: Info) -> User | None:
        if self.doc.actor_id is None:
            return None
        found = await info.context.loaders.user.load(self.doc.actor_id)
        return User.from_doc(found) if found is not None else None


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo

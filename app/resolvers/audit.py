"""The audit log, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.domain.audit import queries as audit
from app.domain.paging import PageRequest
from app.schema.audit.types import AuditEntry, AuditEntryConnection, AuditEntryEdge
from app.schema.context import Info
from app.schema.paging import page_info


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="ADMIN. Every recorded change, oldest first, cursor-paginated (first <= 100)."
    )
    async def audit_log(
        self,
        info: Info,
        entity_id: strawberry.ID | None = None,
        actor_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AuditEntryConnection:
        page = await audit.audit_log(
            info.context.actor,
            audit.AuditFilter(entity_id=entity_id, actor_id=actor_id, start=from_, end=to),
            PageRequest(first=50 if first is None else first, after=after),
        )
        return AuditEntryConnection(
            edges=[
                AuditEntryEdge(cursor=c, node=AuditEntry.from_doc(e))
                for e, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=page_info(page),
        )

"""Reading the audit log: ADMIN's filtered, cursor-paginated log, and one appointment's history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.core.errors import BadUserInput
from app.domain import validation
from app.domain.audit.owed import move_left_behind
from app.domain.auth.actor import Actor, require_role
from app.domain.paging import Page, PageRequest, read_page
from app.models import AuditEntry, Role
from app.store.chunks import gather_in


@dataclass(frozen=True)
class AuditFilter:
    """Which entries the log asks for: of one entity, by one actor, between two instants."""

    entity_id: str | None = None
    actor_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _instant(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise BadUserInput(f"{field} must carry a UTC offset", field=field)
    return value


async def audit_log(
    actor: Actor | None, wanted: AuditFilter, page: PageRequest
) -> Page[AuditEntry]:
    """ADMIN only; oldest first, `first` at most PAGE_MAX, so every page read is bounded."""
    require_role(actor, Role.ADMIN)
    page.check()
    query: dict[str, Any] = {}
    entity = validation.optional_object_id(wanted.entity_id, "entityId")
    if entity is not None:
        query["entity_id"] = entity
    who = validation.optional_object_id(wanted.actor_id, "actorId")
    if who is not None:
        query["actor_id"] = who
    start, end = _instant(wanted.start, "from"), _instant(wanted.end, "to")
    if start is not None and end is not None and start > end:
        raise BadUserInput("to must not be before from", field="to")
    at: dict[str, datetime] = {}
    if start is not None:
        at["$gte"] = start
    if end is not None:
        at["$lte"] = end
    if at:
        query["at"] = at
    await move_left_behind(0)  # every saved change's entries, owed ones included
    return await read_page(AuditEntry, query, "at", page)


async def histories(appointment_ids: Sequence[PydanticObjectId]) -> list[list[AuditEntry]]:
    """Each appointment's entries, oldest first, in one query for the whole list."""
    await move_left_behind(0)
    found = await gather_in(
        appointment_ids,
        lambda some: AuditEntry.find({"entity_id": some, "entity_type": "appointment"}).to_list(),
    )
    grouped: dict[PydanticObjectId, list[AuditEntry]] = defaultdict(list)
    # Sorted here: a few entries per appointment, cheaper than a store-side sort.
    for entry in sorted(found, key=lambda e: (e.at, str(e.id))):
        grouped[entry.entity_id].append(entry)
    return [grouped.get(i, []) for i in appointment_ids]

"""Reading the audit log: ADMIN's filtered, cursor-paginated log, and one appointment's history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.core.errors import BadUserInput
from app.domain import cursors, validation
from app.domain.auth.actor import Actor, require_role
from app.models import AuditEntry, Role

PAGE_MAX = 100


@dataclass
class AuditPage:
    items: list[AuditEntry]
    cursors: list[str]
    has_next_page: bool


def _instant(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise BadUserInput(f"{field} must carry a UTC offset", field=field)
    return value


async def audit_log(
    actor: Actor | None,
    entity_id: str | None,
    actor_id: str | None,
    start: datetime | None,
    end: datetime | None,
    first: int,
    after: str | None,
) -> AuditPage:
    """ADMIN only; oldest first, `first` at most PAGE_MAX, so every page read is bounded."""
    require_role(actor, Role.ADMIN)
    if not 1 <= first <= PAGE_MAX:
        raise BadUserInput(f"first must be between 1 and {PAGE_MAX}", field="first")
    query: dict[str, Any] = {}
    entity = validation.optional_object_id(entity_id, "entityId")
    if entity is not None:
        query["entity_id"] = entity
    who = validation.optional_object_id(actor_id, "actorId")
    if who is not None:
        query["actor_id"] = who
    start, end = _instant(start, "from"), _instant(end, "to")
    if start is not None and end is not None and start > end:
        raise BadUserInput("to must not be before from", field="to")
    at: dict[str, datetime] = {}
    if start is not None:
        at["$gte"] = start
    if end is not None:
        at["$lte"] = end
    if at:
        query["at"] = at
    if after is not None:
        after_at, after_id = cursors.decode(after)
        query["$or"] = [{"at": {"$gt": after_at}}, {"at": after_at, "_id": {"$gt": after_id}}]
    # Sorted in the store: a page is the first `first` after the cursor, so ordering in
    # Python would read the whole (ever-growing) log; the (at, _id) index serves it.
    found = await AuditEntry.find(query).sort("+at", "+_id").limit(first + 1).to_list()
    items = found[:first]
    return AuditPage(
        items=items,
        cursors=[cursors.encode(e.at, e.id) for e in items],
        has_next_page=len(found) > first,
    )


async def histories(appointment_ids: Sequence[PydanticObjectId]) -> list[list[AuditEntry]]:
    """Each appointment's entries, oldest first, in one query for the whole list."""
    found = await AuditEntry.find(
        {"entity_id": {"$in": list(appointment_ids)}, "entity_type": "appointment"}
    ).to_list()
    grouped: dict[PydanticObjectId, list[AuditEntry]] = defaultdict(list)
    # Sorted here: a few entries per appointment, cheaper than a store-side sort.
    for entry in sorted(found, key=lambda e: (e.at, str(e.id))):
        grouped[entry.entity_id].append(entry)
    return [grouped.get(i, []) for i in appointment_ids]

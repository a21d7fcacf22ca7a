"""Writes audit entries: one store round trip per change, however many entries it makes.

The store runs no transactions (one tested write path), so entries are written right after
the change; a failed write is logged and counted (`failed_writes`, shown by /healthz),
never raised at the caller whose change already happened.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from app.core.request_id import current_client_address, current_request_id
from app.domain.auth.actor import Actor
from app.models import AuditEntry

log = logging.getLogger(__name__)

_failed_writes = 0


@dataclass(frozen=True)
class Change:
    """One entity's change; `before` and `after` hold only the fields that changed."""

    action: str
    entity_type: str
    entity_id: PydanticObjectId
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys of `after` whose value differs from `before`, as (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def failed_writes() -> int:
    """Audit writes this process could not make since it started."""
    return _failed_writes


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def as_json(value: Any) -> Any:
    """What the JSON scalar can carry: ids and instants as strings, keys as the API names them."""
    if isinstance(value, Mapping):
        return {_camel(str(k)): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [as_json(v) for v in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return as_json(value.value)
    if hasattr(value, "model_dump"):
        return as_json(value.model_dump())
    return value


def _request_id() -> str | None:
    found = current_request_id.get()
    return None if found == "-" else found


def entry_documents(
    actor: Actor | None, changes: Sequence[Change], at: datetime
) -> list[dict[str, Any]]:
    """Plain documents in AuditEntry's shape: a bulk change is not validated entry by entry."""
    actor_id = actor.user_id if actor is not None else None
    request_id = _request_id()
    address = current_client_address.get()
    return [
        {
            "_id": ObjectId(),
            "at": at,
            "actor_id": actor_id,
            "action": change.action,
            "entity_type": change.entity_type,
            "entity_id": change.entity_id,
            "before": as_json(change.before) if change.before is not None else None,
            "after": as_json(change.after) if change.after is not None else None,
            "request_id": request_id,
            "address": address,
        }
        for change in changes
    ]


async def record(
    actor: Actor | None,
    at: datetime,
    *changes: Change,
) -> None:
    """Append the entries of one change in one insert; `actor` None is the server itself."""
    global _failed_writes
    if not changes:
        return
    documents = entry_documents(actor, changes, at)
    collection = AuditEntry.get_pymongo_collection()
    try:
        if len(documents) == 1:
            await collection.insert_one(documents[0])
        else:
            await collection.insert_many(documents, ordered=False)
    except Exception:
        _failed_writes += 1
        log.exception(
            "audit write failed (%d so far): %s",
            _failed_writes,
            ", ".join(f"{c.action} {c.entity_id}" for c in changes),
        )

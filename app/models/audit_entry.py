"""One line of the audit log: who changed what, when, and the changed fields before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId
from pymongo import ASCENDING, IndexModel


class AuditEntry(Document):
    """Append-only: written once by app/domain/audit/recorder.py, never updated or deleted."""

    at: datetime
    actor_id: PydanticObjectId | None = None  # None: the server itself
    action: str
    entity_type: str
    entity_id: PydanticObjectId
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request_id: str | None = None
    address: str | None = None  # the client's address, for security events

    class Settings:
        name = "audit_log"
        # Each index ends in (at, _id): the order the log is read in, so a filtered page is
        # an index range and not a sort of the whole collection.
        indexes = [
            IndexModel([("entity_id", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("actor_id", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("at", ASCENDING), ("_id", ASCENDING)]),
        ]

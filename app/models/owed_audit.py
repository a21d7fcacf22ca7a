"""Audit entries a document's change still owes the audit log: written by the change itself,
in the write it makes anyway (app/domain/audit/owed.py moves them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

FIELD = "audit_owed"


class OwedAudit(BaseModel):
    """`at`: when the oldest entry still owed was made ($min at each push); `entries`:
    AuditEntry documents, each with its `_id`; `last`: the first entry id of the latest write
    that pushed any, so a mover that knows every entry up to that write can let go of the
    field with one equality; `owing`: always true, the one field the sparse `audit_owing`
    index holds (the embedded store serves an equality on a sparse index, not a range: a
    range on `at` scanned 50,000 slots in 24 ms at every housekeeping pass)."""

    at: datetime
    entries: list[dict[str, Any]] = Field(default_factory=list)
    last: PydanticObjectId | None = None
    owing: bool = True

"""The notifications a document's changes still owe: written by each change itself (the store
runs no transactions), so a process killed before the outbox rows stand loses none of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field, model_validator

# The fields of one change's mark; before two could be kept, they were the mark itself.
CHANGE_FIELDS = ("sequence", "kind", "at", "previous_doctor_id", "previous_starts_at")


class OwedChange(BaseModel):
    """One change whose outbox rows may not stand yet: (sequence, kind) names it."""

    sequence: int
    kind: str  # a NotificationKind
    at: datetime
    previous_doctor_id: PydanticObjectId | None = None
    previous_starts_at: datetime | None = None
    # Read from the single mark stored before `changes` (never written back): let go of by
    # unsetting its fields rather than by $pull.
    legacy: bool = Field(default=False, exclude=True)


class OwedNotifications(BaseModel):
    """`at`: when the oldest change still owed was made ($min at each push), the one field the
    repair's sparse index holds; `changes`: each one, $push-ed and $pull-ed by its own key."""

    at: datetime
    changes: list[OwedChange] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _single_mark(cls, data: Any) -> Any:
        """The shape stored before: one change's fields at the top (maybe with `changes`
        pushed onto it since). It is read as one more change, the oldest."""
        if isinstance(data, dict) and "kind" in data:
            legacy = {k: data[k] for k in CHANGE_FIELDS if k in data} | {"legacy": True}
            return {"at": data["at"], "changes": [legacy, *data.get("changes", [])]}
        return data

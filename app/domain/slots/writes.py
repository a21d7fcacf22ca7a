"""Every change to a slot is one atomic conditional update: the filter states the rule."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from app.models import Slot


async def update_slot(
    conditions: dict[str, Any],
    changes: dict[str, Any],
) -> Slot | None:
    """The slot as it is after the change, or None when the conditions no longer held.

    A None value removes the field rather than storing null, as the Slot model does on
    insert: a stored null would put the slot in the sparse indexes (two nulls would even
    clash in the unique `slot_lock_key_unique`)."""
    update: dict[str, Any] = {"$set": {k: v for k, v in changes.items() if v is not None}}
    removed = {k: "" for k, v in changes.items() if v is None}
    if removed:
        update["$unset"] = removed
    doc = await Slot.get_pymongo_collection().find_one_and_update(
        conditions, update, return_document=ReturnDocument.AFTER
    )
    return None if doc is None else Slot.model_validate(doc)

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


async def claim_slot(
    conditions: dict[str, Any],
    changes: dict[str, Any],
) -> tuple[Slot, Slot] | None:
    """(the slot before, the slot after) one conditional update, or None when it matched
    nothing: the store sends the document as it was, the change is applied to it here, so
    a caller learns what it replaced without a read of its own. `changes` are top-level
    fields, a None removing the field as in `update_slot`."""
    update: dict[str, Any] = {"$set": {k: v for k, v in changes.items() if v is not None}}
    removed = {k: "" for k, v in changes.items() if v is None}
    if removed:
        update["$unset"] = removed
    doc = await Slot.get_pymongo_collection().find_one_and_update(
        conditions, update, return_document=ReturnDocument.BEFORE
    )
    if doc is None:
        return None
    after = {k: v for k, v in doc.items() if k not in removed} | update["$set"]
    return Slot.model_validate(doc), Slot.model_validate(after)

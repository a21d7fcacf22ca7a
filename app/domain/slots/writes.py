"""Every change to a slot is one atomic conditional update: the filter states the rule."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from app.models import Slot


async def update_slot(
    conditions: dict[str, Any],
    changes: dict[str, Any],
) -> Slot | None:
    """The slot as it is after the change, or None when the conditions no longer held."""
    doc = await Slot.get_pymongo_collection().find_one_and_update(
        conditions, {"$set": changes}, return_document=ReturnDocument.AFTER
    )
    return None if doc is None else Slot.model_validate(doc)

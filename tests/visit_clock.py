"""Moving an appointment in time, for the rules that depend on how near its start is.

The server reads "now" from its clock (app/core/clock.py) and the appointment's start from
the store; the slot API refuses to create past slots, so a test books a future slot and then
moves the stored start (and no-show time) to where the rule under test needs it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

Store = AsyncDatabase[dict[str, Any]]


async def starts_in(store: Store, appointment_id: str, minutes: float) -> datetime:
    """The appointment now starts `minutes` from now (negative: it started that long ago)."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)
    await store["appointments"].update_one(
        {"_id": ObjectId(appointment_id)},
        {"$set": {"starts_at": start, "ends_at": start + timedelta(minutes=30)}},
    )
    return start


async def no_show_marked_ago(store: Store, appointment_id: str, hours: float) -> None:
    marked = datetime.now(UTC) - timedelta(hours=hours)
    await store["appointments"].update_one(
        {"_id": ObjectId(appointment_id)}, {"$set": {"no_show_at": marked}}
    )

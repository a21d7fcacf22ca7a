"""The slots a patient is holding right now, so a front end can resume or release them."""

from __future__ import annotations

from datetime import datetime

from app.domain.auth.actor import Actor, require_actor
from app.domain.slots.ordering import by_start
from app.models import Role, Slot
from app.store.queries import slots


async def my_locks(actor: Actor | None, now: datetime) -> list[Slot]:
    """The caller's unexpired, unbooked locks by start; only patients hold locks of their own."""
    caller = require_actor(actor)
    if caller.role is not Role.PATIENT:
        return []
    return by_start(await slots.held_locks(caller.user_id, now))

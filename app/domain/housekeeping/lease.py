"""One API process at a time does the housekeeping; the others stand by and take over when
the holder stops renewing (it crashed, hung, or lost the store).

The lease is one document in the store, taken or renewed with one conditional upsert by
_id: a few cheap round trips a minute, however much data there is. Every housekeeping
write is conditional anyway, so a lease that lapses mid-pass (two housekeepers for a
moment) costs repeated reads, never a wrong result. Processes compare `until` with their
own clocks, so their clocks must agree to well within the lease's length.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.models import Lease
from app.settings import Settings


def lease_name(settings: Settings) -> str:
    """Processes share a lease only when their housekeeping settings agree.

    A process with another lock TTL (the reconciler's grace), sweep interval or horizon
    would do different work: it keeps a lease of its own rather than have its settings
    silently ignored, so during a rolling change of these both settings are served.
    """
    return (
        f"housekeeping:lock-ttl={settings.slot_lock_ttl_seconds}s"
        f":sweep={settings.lock_sweep_interval_seconds:g}s"
        f":horizon={settings.schedule_horizon_days}d"
    )


class HousekeepingLease:
    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.length = timedelta(seconds=seconds)
        # Host and pid say which process holds it; the suffix tells a restarted pid apart.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    async def renew(self) -> bool:
        """Take the lease if it is free or lapsed, or extend our own: one round trip."""
        now = utcnow()
        try:
            await Lease.get_pymongo_collection().update_one(
                {"_id": self.name, "$or": [{"holder": self.holder}, {"until": {"$lte": now}}]},
                {"$set": {"holder": self.holder, "until": now + self.length}},
                upsert=True,
            )
        except DuplicateKeyError:
            # Another process holds it: no document matched, so the upsert tried to make one.
            self.held = False
        else:
            self.held = True
        return self.held

    async def release(self) -> None:
        """On a clean stop: a standby takes over at its next sweep, not after the lease runs out."""
        if self.held:
            self.held = False
            await Lease.get_pymongo_collection().delete_one(
                {"_id": self.name, "holder": self.holder}
            )

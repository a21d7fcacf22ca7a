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
import time
import uuid
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.models import Lease
from app.settings import Settings
from app.store import lanes


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
    """The lease as this process sees it.

    `held` stays true while the lease this process last wrote has not run out by its own
    clock, counted from when that renewal was sent: a renewal that is slow or fails does not
    give the lease up, since no other process can take it before then either. The holder
    renews four times a lease (`renew_every`), so a round trip may take up to three quarters
    of a lease before a standby can take over.
    """

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.length = timedelta(seconds=seconds)
        self.renew_every = seconds / 4
        # Host and pid say which process holds it; the suffix tells a restarted pid apart.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held_until = 0.0  # monotonic
        self.taken_from: str | None = None

    @property
    def held(self) -> bool:
        return time.monotonic() < self._held_until

    def let_go(self) -> None:
        self._held_until = 0.0

    async def renew(self) -> bool:
        """Take the lease if it is free or lapsed, or extend our own: one round trip.

        `taken_from` names the holder this renewal took the lease from (a hand-over)."""
        sent = time.monotonic()
        now = utcnow()
        self.taken_from = None
        try:
            before = await lanes.collection(Lease).find_one_and_update(
                {"_id": self.name, "$or": [{"holder": self.holder}, {"until": {"$lte": now}}]},
                {"$set": {"holder": self.holder, "until": now + self.length}},
                projection={"holder": 1},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:
            # Another process holds it: no document matched, so the upsert tried to make one.
            self._held_until = 0.0
            return False
        if before is not None and before.get("holder") not in (None, self.holder):
            self.taken_from = str(before["holder"])
        self._held_until = sent + self.length.total_seconds()
        return True

    async def release(self) -> None:
        """On a clean stop: a standby takes over at its next sweep, not after the lease runs out."""
        if self.held:
            self._held_until = 0.0
            await lanes.collection(Lease).delete_one({"_id": self.name, "holder": self.holder})

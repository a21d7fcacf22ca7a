"""The background loop every API process runs: expire locks, repair orphaned bookings."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.domain.booking.locks import release_expired_locks
from app.domain.housekeeping.reconciler import OrphanedBookingReconciler
from app.settings import get_settings

log = logging.getLogger(__name__)


async def run_housekeeping(stop: asyncio.Event) -> None:
    settings = get_settings()
    reconciler = OrphanedBookingReconciler(settings.slot_lock_ttl_seconds)
    while not stop.is_set():
        try:
            await release_expired_locks()
            await reconciler.run()
        except Exception:
            log.exception("housekeeping pass failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.lock_sweep_interval_seconds)

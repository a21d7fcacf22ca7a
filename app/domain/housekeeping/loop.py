"""The background loop every API process runs: expire locks, repair orphaned bookings,
and keep scheduled doctors' slots rolling forward."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from app.domain.booking.locks import release_expired_locks
from app.domain.housekeeping.reconciler import OrphanedBookingReconciler
from app.domain.scheduling.horizon import HORIZON_CHECK_SECONDS, roll_horizons_forward
from app.observability import metrics
from app.settings import get_settings
from app.store import outage

log = logging.getLogger(__name__)


async def run_housekeeping(stop: asyncio.Event) -> None:
    settings = get_settings()
    reconciler = OrphanedBookingReconciler(settings.slot_lock_ttl_seconds)
    next_horizon_check = 0.0  # at start-up, then every HORIZON_CHECK_SECONDS
    while not stop.is_set():
        try:
            metrics.locks_expired(len(await release_expired_locks()))
            await reconciler.run()
        except Exception as exc:
            if not outage.noticed(exc):  # a store outage is logged once, not every pass
                log.exception("housekeeping pass failed; retrying")
        if time.monotonic() >= next_horizon_check:
            next_horizon_check = time.monotonic() + HORIZON_CHECK_SECONDS
            try:
                await roll_horizons_forward()
            except Exception as exc:
                if not outage.noticed(exc):
                    log.exception("rolling schedule horizons forward failed; retrying later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.lock_sweep_interval_seconds)

"""The background loop every API process runs: the process holding the housekeeping lease
expires locks, repairs orphaned bookings and keeps scheduled doctors' slots rolling
forward; the others only try to take the lease, one round trip every quarter of a lease."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time

from app.domain.audit import owed as owed_audit
from app.domain.booking.locks import release_expired_locks
from app.domain.housekeeping.lease import HousekeepingLease, lease_name
from app.domain.housekeeping.reconciler import OrphanedBookingReconciler
from app.domain.scheduling.horizon import HORIZON_CHECK_SECONDS, roll_horizons_forward
from app.observability import metrics
from app.settings import get_settings
from app.store import lanes, outage

log = logging.getLogger(__name__)


async def _renew(lease: HousekeepingLease) -> None:
    was_held = lease.held
    try:
        await lease.renew()
    except Exception as exc:
        # Not given up: the lease is still ours in the store until it runs out (`held`).
        if not outage.noticed(exc):
            log.exception("renewing the housekeeping lease failed; retrying")
    held = lease.held
    if held and lease.taken_from is not None:
        metrics.housekeeping_handed_over()
    if held != was_held:
        metrics.housekeeping_held(lease.holder, held)
        log.info(
            "process %d %s the housekeeping (%s, holder %s%s)",
            os.getpid(),
            "now does" if held else "no longer does",
            lease.name,
            lease.holder,
            f", taken over from {lease.taken_from}" if lease.taken_from else "",
        )


async def keep_renewing(lease: HousekeepingLease, stop: asyncio.Event) -> None:
    """Renewals in their own task, so a long housekeeping pass never delays them, and in the
    store's background lane, so a rush of requests does not either (app/store/lanes.py)."""
    with lanes.background():
        await _renew_until(lease, stop)


async def _renew_until(lease: HousekeepingLease, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await _renew(lease)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=lease.renew_every)


async def run_housekeeping(stop: asyncio.Event) -> None:
    settings = get_settings()
    lease = HousekeepingLease(lease_name(settings), settings.housekeeping_lease)
    reconciler = OrphanedBookingReconciler(settings.slot_lock_ttl_seconds)
    # Every process rolls horizons once at start-up (a first start does not wait for its
    # turn; doctor leases and the slot key keep one result), then only while holding.
    next_horizon_check = 0.0
    started = False
    renewals = asyncio.create_task(keep_renewing(lease, stop), name="housekeeping lease")
    try:
        while not stop.is_set():
            holding = lease.held
            if holding:
                try:
                    await release_expired_locks()
                    await reconciler.run()
                    await owed_audit.move_left_behind()
                except Exception as exc:
                    if not outage.noticed(exc):  # a store outage is logged once, not every pass
                        log.exception("housekeeping pass failed; retrying")
            if (holding or not started) and time.monotonic() >= next_horizon_check:
                started = True
                next_horizon_check = time.monotonic() + HORIZON_CHECK_SECONDS
                try:
                    await roll_horizons_forward()
                except Exception as exc:
                    if not outage.noticed(exc):
                        log.exception("rolling schedule horizons forward failed; retrying later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.lock_sweep_interval_seconds)
    finally:
        renewals.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewals
        if lease.held:
            metrics.housekeeping_held(lease.holder, False)
        try:
            await lease.release()
        except Exception:
            log.warning("could not release the housekeeping lease; it lapses on its own")

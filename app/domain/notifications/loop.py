"""The sender's loop in every API process: the holder of the notifications lease delivers
(and schedules reminders); the others only try for the lease now and then."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

from app.domain.housekeeping.lease import HousekeepingLease
from app.domain.notifications import claims, outbox, owed, webhooks
from app.domain.notifications.owed_rows import write_owed
from app.domain.notifications.reminders import CHECK_SECONDS, schedule_reminders
from app.domain.notifications.sender import Pass, finish_pass, prepare_pass
from app.settings import Settings, get_settings
from app.store import lanes, outage

log = logging.getLogger(__name__)
LEASE_NAME = "notifications"
# Changes are written when the sender hears of them (outbox.noticed); this look catches
# what it did not hear (Redis down, a process killed before publishing).
OWED_CHECK_SECONDS = 2.0
# Documents whose rows a pass writes while it sends the last pass's rows: a booking owes an
# email and a webhook, so 100 keep pace with a sending batch of 200 rows (the default).
OWED_BATCH = 100
# A pass that did not fill its batch waits this long from its start before the next, so a
# rush of changes is written and sent in batches, not one pass (six store commands) each.
GATHER_SECONDS = 0.25


async def run_sender(stop: asyncio.Event) -> None:
    """In the requests' lane, but for its lease: bookings come first (app/store/lanes.py)."""
    settings = get_settings()
    if not settings.notifications_enabled:
        log.info("notifications are off (NOTIFICATIONS_ENABLED=false): no sender runs")
        return
    lease = HousekeepingLease(LEASE_NAME, settings.housekeeping_lease)
    renew_every = settings.housekeeping_lease / 3
    renewed = 0.0
    next_reminders = 0.0
    next_owed = 0.0
    more_owed = False
    client = webhooks.client(settings)
    sending = _Sending()
    try:
        while not stop.is_set():
            busy = False
            started = time.monotonic()
            # Cleared before the pass: a change made during it brings the next one at once.
            nudged = outbox.waiting.is_set()
            outbox.waiting.clear()
            try:
                await owed.unset_settled()
                if time.monotonic() - renewed >= renew_every or not lease.held:
                    with lanes.background():
                        await lease.renew()
                    renewed = time.monotonic()
                if lease.held:
                    if time.monotonic() >= next_reminders:
                        next_reminders = time.monotonic() + CHECK_SECONDS
                        await schedule_reminders(settings)
                    writing = nudged or more_owed or time.monotonic() >= next_owed
                    if writing:
                        next_owed = time.monotonic() + OWED_CHECK_SECONDS
                    read, ready = await _write_and_prepare(settings, writing)
                    await sending.done(ready)
                    if ready is not None:
                        sending.start(finish_pass(settings, client, ready))
                    sent = 0 if ready is None else len(ready.claimed)
                    more_owed = read >= OWED_BATCH
                    busy = sent >= settings.notification_batch_size or read > 0
                else:
                    await sending.done(None)
            except Exception as exc:
                lease.let_go()
                if not outage.noticed(exc):
                    log.exception("notification pass failed; retrying")
            if busy:
                continue  # more is waiting: no pause between full batches
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    _either(stop, outbox.waiting), timeout=settings.notification_poll_seconds
                )
            gathered = started + GATHER_SECONDS - time.monotonic()
            if gathered > 0 and not stop.is_set():
                await asyncio.sleep(gathered)
    finally:
        with contextlib.suppress(Exception):  # the last pass sends before the client closes
            await sending.done(None)
        await client.aclose()
        with contextlib.suppress(Exception):
            await lease.release()


async def _write_and_prepare(settings: Settings, writing: bool) -> tuple[int, Pass | None]:
    """The owed changes' rows written while the next pass is prepared (claimed, rendered,
    composed), both while the previous pass still sends and records: the store, the SMTP
    server and this process work at once. Rows written here go out with the next pass, at
    once (the pass counts as busy). One failing cancels the other: a claim cut short lapses,
    a write cut short is written again."""
    try:
        async with asyncio.TaskGroup() as both:
            read = (
                both.create_task(write_owed(settings.notification_owed_grace_seconds, OWED_BATCH))
                if writing
                else None
            )
            preparing = both.create_task(prepare_pass(settings))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None  # the loop tells an outage by its type
    return (read.result() if read is not None else 0), preparing.result()


class _Sending:
    """The pass sending now, at most one: the next is prepared meanwhile. It claims while
    this one's claim stands, so the two never take the same rows (claims.py)."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None

    def start(self, finishing: Coroutine[Any, Any, None]) -> None:
        self.task = asyncio.create_task(finishing, name="notifications sending")

    async def done(self, ready: Pass | None) -> None:
        """Waits for the pass in flight. When it failed, `ready` (a pass just prepared) lets
        its claim go, so its rows wait for the next pass rather than for the claim to
        lapse, and the failure is raised."""
        task, self.task = self.task, None
        if task is None:
            return
        try:
            await task
        except BaseException:
            if ready is not None:
                with contextlib.suppress(Exception):
                    await claims.release(ready.token, ready.batch.now)
            raise


async def _either(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()

"""Start-up and shut-down of one API process: store, broker, limits, admin, housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from app.domain.audit import owed as owed_audit
from app.domain.auth import revocations
from app.domain.auth.accounts import ensure_admin
from app.domain.auth.sessions import load_recent_ends, reload_after_resync
from app.domain.housekeeping.loop import run_housekeeping
from app.domain.notifications import outbox
from app.domain.notifications.loop import run_sender
from app.domain.patients.directory import the_directory
from app.domain.read_model import ReadModel, set_read_model
from app.events.broker import LocalBroker, RedisBroker
from app.events.hub import Hub
from app.events.publisher import set_broker
from app.observability import metrics
from app.rate_limits import build_rate_limits, set_rate_limits
from app.redis_link import events_channel, key_prefix
from app.settings import get_settings
from app.store.connection import connect_store, disconnect_store
from app.store.deployment import deployment_id
from app.web.readiness import Readiness

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = get_settings()
    if not settings.mongodb_uri:
        raise RuntimeError("MONGODB_URI is not set; start with `python -m app serve`")
    store = await connect_store(settings.mongodb_uri, settings.mongodb_db)
    prefix = key_prefix(
        settings.redis_key_prefix, await deployment_id(store.client[settings.mongodb_db])
    )
    if (
        settings.admin_email
        and settings.admin_password
        and await ensure_admin(settings.admin_email, settings.admin_password)
    ):
        log.info("created admin %s", settings.admin_email)
    # The hub feeds shared subscription groups, each one execution for many members: it gets
    # more room than a single member's queue (SUBSCRIBER_QUEUE_SIZE) before giving up.
    hub = Hub(queue_size=max(1024, 4 * settings.subscriber_queue_size))
    broker: LocalBroker | RedisBroker = (
        RedisBroker(
            hub,
            settings.redis_url,
            events_channel(settings.events_channel, prefix),
            settings.redis_timeout_seconds,
        )
        if settings.redis_url
        else LocalBroker(hub)
    )
    # Watching before the broker starts: no event of this process's life goes unheard.
    read_model = ReadModel(settings.read_model_max_age_seconds)
    hub.watch(revocations.apply)
    hub.watch(reload_after_resync)
    if settings.read_model_enabled:
        hub.watch(read_model.apply)
    patients = the_directory()
    hub.watch(patients.apply)
    if settings.notifications_enabled:
        hub.watch(outbox.noticed)
    patients.watching = True
    await broker.start()
    await load_recent_ends()
    set_broker(broker, hub)
    set_read_model(read_model if settings.read_model_enabled else None)
    set_rate_limits(build_rate_limits(settings, prefix))
    metrics.this_process_serves()
    app.state.readiness = Readiness(settings.redis_url, settings.readiness_timeout_seconds)
    stop = asyncio.Event()
    housekeeping = asyncio.create_task(run_housekeeping(stop), name="housekeeping")
    sender = asyncio.create_task(run_sender(stop), name="notifications")
    try:
        yield
    finally:
        stop.set()
        await housekeeping
        await sender
        await owed_audit.finish()
        set_read_model(None)
        hub.unwatch(read_model.apply)
        patients.watching = False
        hub.unwatch(patients.apply)
        hub.unwatch(revocations.apply)
        hub.unwatch(reload_after_resync)
        set_broker(None)
        await app.state.readiness.close()
        await broker.close()
        await disconnect_store()
        metrics.forget_this_process()

"""Start-up and shut-down of one API process: store, broker, admin, demo data, housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from app.domain.auth import ensure_admin
from app.domain.housekeeping import run_housekeeping
from app.settings import get_settings
from app.store.connection import connect_store, disconnect_store

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    settings = get_settings()
    if not settings.mongodb_uri:
        raise RuntimeError("MONGODB_URI is not set; start with `python -m app serve`")
    await connect_store(settings.mongodb_uri, settings.mongodb_db)
    if (
        settings.admin_email
        and settings.admin_password
        and await ensure_admin(settings.admin_email, settings.admin_password)
    ):
        log.info("created admin %s", settings.admin_email)
    stop = asyncio.Event()
    housekeeping = asyncio.create_task(run_housekeeping(stop), name="housekeeping")
    try:
        yield
    finally:
        stop.set()
        await housekeeping
        await disconnect_store()

"""A short lease on one document, taken in the store, so rules that read-then-write hold
across every API process (a patient's overlap check, a doctor's slot overlap check).

No in-process lock could do this: two API processes share only the store. MongoDB has no
advisory locks, so the lease is one atomic conditional update on the owning document.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from app.core.clock import utcnow
from app.core.errors import Conflict, ServiceUnavailable
from app.settings import get_settings
from app.store import outage

log = logging.getLogger(__name__)
# A request's lease: a holder that died, or could not release it (a full disk), blocks the
# next request for at most this long, and a waiter waits a little longer than this, so a
# lease left behind delays a patient but never refuses them.
LEASE_SECONDS = 5.0
WAIT_SECONDS = LEASE_SECONDS + 1.0


@asynccontextmanager
async def guarded(
    collection: AsyncCollection[dict[str, Any]],
    document_id: ObjectId,
    what: str,
    lease_seconds: float = LEASE_SECONDS,
    wait_seconds: float = WAIT_SECONDS,
    lease: str = "guard",
    poll_seconds: tuple[float, float] = (0.005, 0.03),
) -> AsyncIterator[None]:
    """Hold the lease on `document_id` for the block; a crashed holder's lease just expires.

    Long work (regenerating a doctor's slots) asks for a longer lease; a caller that would
    rather skip than wait passes wait_seconds=0. `lease` names the fields, so one document
    can carry leases for unrelated rules (a patient's bookings, a patient's slot locks).
    A long holder's waiters poll less often (`poll_seconds`), so as not to load the store.
    """
    token_field, until_field = f"{lease}_token", f"{lease}_until"
    token = ObjectId()
    deadline = time.monotonic() + wait_seconds
    while True:
        now = utcnow()
        taken = await collection.update_one(
            {
                "_id": document_id,
                "$or": [{until_field: None}, {until_field: {"$lte": now}}],
            },
            {
                "$set": {
                    token_field: token,
                    until_field: now + timedelta(seconds=lease_seconds),
                }
            },
        )
        if taken.modified_count == 1:
            break
        if time.monotonic() > deadline:
            raise _waited_out(what)
        await asyncio.sleep(random.uniform(*poll_seconds))
    try:
        yield
    finally:
        await _release(collection, document_id, token_field, until_field, token, what)


def _waited_out(what: str) -> Exception:
    """CONFLICT only when another change really holds the lease: while the store is failing,
    the lease may be one it would not let its holder release, and the client is not to blame."""
    if outage.refusing_writes() is not None or outage.unreachable():
        return ServiceUnavailable(
            f"This {what} cannot be changed while the store is failing; try again shortly",
            retry_after=get_settings().store_retry_after_seconds,
        )
    return Conflict(f"Another change to this {what} is in progress; try again")


async def _release(
    collection: AsyncCollection[dict[str, Any]],
    document_id: ObjectId,
    token_field: str,
    until_field: str,
    token: ObjectId,
    what: str,
) -> None:
    """Never raises: the block's outcome (a saved booking, or the error that stopped it) is
    the answer, and a lease left behind only delays the next change until it expires."""
    try:
        await collection.update_one(
            {"_id": document_id, token_field: token},
            {"$set": {token_field: None, until_field: None}},
        )
    except Exception:
        log.exception(
            "could not release the lease on %s %s; it expires by itself", what, document_id
        )

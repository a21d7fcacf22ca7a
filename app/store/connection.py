"""One PyMongo async client per process, Beanie on top, and whether transactions work."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from app.models import DOCUMENT_MODELS
from app.observability.store_commands import StoreCommandTimer
from app.store.migrations import migrate

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Store:
    client: AsyncMongoClient
    supports_transactions: bool

    async def run_atomically(self, work: Callable[[AsyncClientSession | None], Awaitable[T]]) -> T:
        """Run `work` in a transaction where the store has them, retried on transient errors.

        Without transactions `work` runs with no session; callers keep their writes
        ordered so that the reconciler can repair what a crash leaves half-done.
        """
        if not self.supports_transactions:
            return await work(None)
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                async with self.client.start_session() as session:
                    return await session.with_transaction(lambda s: work(s))
            except OperationFailure as exc:
                # PyMongo retries conflicts labelled TransientTransactionError by itself; mongoeco
                # reports a commit-time write conflict without the label, so retry it here.
                if not _is_write_conflict(exc) or attempt == TRANSACTION_ATTEMPTS:
                    raise
                await asyncio.sleep(random.uniform(0.002, 0.02) * attempt)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self.client.close()


_store: Store | None = None
TRANSACTION_ATTEMPTS = 20


def _is_write_conflict(exc: OperationFailure) -> bool:
    return (
        exc.has_error_label("TransientTransactionError")
        or exc.code == 112
        or "write conflict" in str(exc).lower()
    )


def get_store() -> Store:
    if _store is None:
        raise RuntimeError("the store is not connected")
    return _store


async def _probe_transactions(client: AsyncMongoClient, db_name: str) -> bool:
    """Transactions only on a replica set or mongos, as MongoDB defines them.

    mongoeco accepts transactions but does not isolate concurrent ones (an aborted
    transaction's writes can be read by others), so a store that is not a replica set
    runs without them: ordered writes, store-side leases and the reconciler keep it safe.
    """
    hello = await client.admin.command("hello")
    if not hello.get("setName") and hello.get("msg") != "isdbgrid":
        log.info("store is not a replica set: bookings run without transactions")
        return False
    try:
        async with client.start_session() as session, await session.start_transaction():
            await client[db_name]["slots"].find_one({}, session=session)
    except OperationFailure as exc:
        log.warning("store refused a transaction (%s); running without them", exc)
        return False
    return True


async def connect_store(uri: str, db_name: str) -> Store:
    """Connect, register the Beanie documents and create their indexes."""
    global _store
    client: AsyncMongoClient = AsyncMongoClient(
        uri, tz_aware=True, uuidRepresentation="standard", event_listeners=[StoreCommandTimer()]
    )
    await migrate(client[db_name])
    await init_beanie(database=client[db_name], document_models=DOCUMENT_MODELS)
    _store = Store(client=client, supports_transactions=await _probe_transactions(client, db_name))
    return _store


async def disconnect_store() -> None:
    global _store
    if _store is not None:
        await _store.close()
        _store = None

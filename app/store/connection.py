"""One PyMongo async client per process, Beanie on top, and whether transactions work."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from app.models import DOCUMENT_MODELS

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Store:
    client: AsyncMongoClient  # type: ignore[type-arg]
    supports_transactions: bool

    async def run_atomically(self, work: Callable[[AsyncClientSession | None], Awaitable[T]]) -> T:
        """Run `work` in a transaction where the store has them, retried on transient errors.

        Without transactions `work` runs with no session; callers keep their writes
        ordered so that the reconciler can repair what a crash leaves half-done.
        """
        if not self.supports_transactions:
            return await work(None)
        async with self.client.start_session() as session:
            return await session.with_transaction(lambda s: work(s))

    async def close(self) -> None:
        await self.client.close()


_store: Store | None = None


def get_store() -> Store:
    if _store is None:
        raise RuntimeError("the store is not connected")
    return _store


async def _probe_transactions(client: AsyncMongoClient, db_name: str) -> bool:  # type: ignore[type-arg]
    try:
        async with client.start_session() as session, await session.start_transaction():
            await client[db_name]["slots"].find_one({}, session=session)
    except OperationFailure as exc:
        log.warning("store has no transactions (%s); the reconciler guards bookings", exc)
        return False
    return True


async def connect_store(uri: str, db_name: str) -> Store:
    """Connect, register the Beanie documents and create their indexes."""
    global _store
    client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, uuidRepresentation="standard")  # type: ignore[type-arg]
    await init_beanie(database=client[db_name], document_models=DOCUMENT_MODELS)
    _store = Store(client=client, supports_transactions=await _probe_transactions(client, db_name))
    return _store


async def disconnect_store() -> None:
    global _store
    if _store is not None:
        await _store.close()
        _store = None

"""Two lanes to the store: requests, and the work a process does on its own (the sender,
its reminders and repairs, lease renewals).

The embedded store answers one command at a time, first come first served. During B10's
rush of 400 bookings the sender's claim waited 10 s and a lease renewal 22 s in the
requests' connection pool, behind every queued booking, so no email went out until the
rush was over. Background work runs in a lane of its own: a second client with a few
connections, whose commands wait only for those already at the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from beanie import Document
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

BACKGROUND_CONNECTIONS = 4

_in_background: ContextVar[bool] = ContextVar("in_background", default=False)
_background_database: Any = None


def open_background_lane(client: AsyncMongoClient, db_name: str) -> None:
    global _background_database
    _background_database = client[db_name]


def close_background_lane() -> None:
    global _background_database
    _background_database = None


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Everything awaited inside (and the tasks it starts) goes through the background lane."""
    token = _in_background.set(True)
    try:
        yield
    finally:
        _in_background.reset(token)


def collection(model: type[Document]) -> AsyncCollection[dict[str, Any]]:
    """The model's collection in the current lane."""
    if _in_background.get() and _background_database is not None:
        found: AsyncCollection[dict[str, Any]] = _background_database[model.get_collection_name()]
        return found
    return model.get_pymongo_collection()


async def find[D: Document](model: type[D], query: dict[str, Any], limit: int = 0) -> list[D]:
    """`model.find(query)` in the current lane (Beanie's own find always takes the requests')."""
    documents = await collection(model).find(query, limit=limit).to_list(None)
    return [model.model_validate(document) for document in documents]

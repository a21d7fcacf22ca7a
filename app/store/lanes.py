"""Two lanes to the store: requests, and lease renewals.

The embedded store answers one command at a time, first come first served. During B10's
rush of 400 bookings a lease renewal waited 22 s in the requests' connection pool, behind
every queued booking, and the lease changed hands. Renewals run in a lane of their own: a
second client with a few connections, whose commands wait only for those already at the
store.

The notification sender stays in the requests' lane, on purpose: in its own lane it sent
during a rush instead of after it (B10 at 400 bookings: booking to inbox p99 44 s -> 25 s),
but the store time it took came out of the bookings (B1: lock-then-book with notifications
0.93x -> 0.69x of without; straight booking 1.01x -> 0.51x of its floor, while the sender
drained the previous rush's rows). Patients waiting on a booking come before their emails.
Code it calls takes its collections through `collection()` and `find()`, so moving it is
one `with background():`.
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

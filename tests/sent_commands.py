"""The store commands of one kind sent to one collection, as PyMongo started them, by every
client made after the listener is registered (PyMongo keeps it for the process's life, so it
keeps only what it was made for); and the domain run in this process on a database of its
own, with such a listener."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pymongo import monitoring

from app.store.connection import connect_store, disconnect_store


class SentCommands(monitoring.CommandListener):
    def __init__(self, name: str, collection: str) -> None:
        self.name, self.collection = name, collection
        self.sent: list[Mapping[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == self.name and event.command[self.name] == self.collection:
            # A copy: PyMongo may reuse the command's lists for its next batch.
            self.sent.append(
                {k: list(v) if isinstance(v, list) else v for k, v in event.command.items()}
            )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@contextlib.asynccontextmanager
async def domain_counting(
    store_uri: str, name: str, collection: str, database: str
) -> AsyncIterator[SentCommands]:
    """The app's store connection on a fresh `database_*`, its `name` commands to
    `collection` counted."""
    listener = SentCommands(name, collection)
    monitoring.register(listener)  # before connect_store makes its clients
    await connect_store(store_uri, f"{database}_{uuid.uuid4().hex[:8]}")
    try:
        yield listener
    finally:
        await disconnect_store()

"""The store commands of one kind sent to one collection, as PyMongo started them, by every
client made after the listener is registered (PyMongo keeps it for the process's life, so it
keeps only what it was made for)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import monitoring


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

"""Times every store command through PyMongo's own monitoring hook, and tells the outage
episodes (app/store/outage.py) when the store answers again."""

from __future__ import annotations

from pymongo import monitoring

from app.core import answers
from app.observability import metrics
from app.store import outage


class StoreCommandTimer(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        answers.note_store_command()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        metrics.store_command_finished(event.command_name, event.duration_micros / 1e6, True)
        outage.command_succeeded(event.command_name, event.reply)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        metrics.store_command_finished(event.command_name, event.duration_micros / 1e6, False)
        outage.command_failed(event.failure)

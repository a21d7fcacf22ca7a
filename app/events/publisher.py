"""Where the domain announces committed changes; the broker behind it is set at start-up."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from app.events.hub import Hub
from app.events.messages import Event
from app.observability import metrics

log = logging.getLogger(__name__)


class Broker(Protocol):
    async def publish(self, event: Event) -> None: ...

    async def publish_many(self, events: Sequence[Event]) -> None: ...

    def delivery_epoch(self) -> int | None: ...


_broker: Broker | None = None
_hub = Hub()


def set_broker(broker: Broker | None, hub: Hub | None = None) -> None:
    global _broker, _hub
    _broker = broker
    if hub is not None:
        _hub = hub


def get_hub() -> Hub:
    """This process's subscribers; the broker feeds it."""
    return _hub


def delivery_epoch() -> int | None:
    """Changes the moment this process may have missed an event; None while it may be missing
    them (or has no broker). The read model serves from memory only within one epoch."""
    return None if _broker is None else _broker.delivery_epoch()


async def publish(*events: Event) -> None:
    """Announce events after their change is committed; a broker failure never undoes it."""
    if _broker is None or not events:
        return
    try:
        if len(events) == 1:
            await _broker.publish(events[0])
        else:
            await _broker.publish_many(events)
    except Exception:
        log.exception("could not publish %d event(s) (%s)", len(events), events[0].topic)
        return
    for event in events:
        metrics.events_published(event.topic)

"""In-process fan-out: every subscriber of this process gets a bounded queue of its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from app.core.errors import SubscriberTooSlow
from app.events.messages import Event
from app.observability import metrics

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscriber:
    wants: Callable[[Event], bool]
    queue: asyncio.Queue[Event]
    overflowed: bool = False

    async def next(self, wait_seconds: float | None = None) -> Event | None:
        """The next event, or None after `wait_seconds`; raises once the queue has overflowed."""
        if self.overflowed and self.queue.empty():
            raise SubscriberTooSlow()
        try:
            return await asyncio.wait_for(self.queue.get(), wait_seconds)
        except TimeoutError:
            if self.overflowed:
                raise SubscriberTooSlow() from None
            return None


@dataclass
class Hub:
    queue_size: int = 256
    subscribers: set[Subscriber] = field(default_factory=set)
    # Called in order of delivery, before any subscriber: the read model (app/domain/read_model)
    # must have applied an event before a subscriber told of it re-queries.
    watchers: list[Callable[[Event], None]] = field(default_factory=list)

    def watch(self, watcher: Callable[[Event], None]) -> None:
        self.watchers.append(watcher)

    def unwatch(self, watcher: Callable[[Event], None]) -> None:
        if watcher in self.watchers:
            self.watchers.remove(watcher)

    def notify_watchers(self, event: Event) -> None:
        for watcher in list(self.watchers):
            try:
                watcher(event)
            except Exception:
                log.exception("a watcher failed on a %s event", event.topic)

    def deliver(self, event: Event) -> None:
        self.notify_watchers(event)
        delivered = 0
        for subscriber in list(self.subscribers):
            if subscriber.overflowed or not subscriber.wants(event):
                continue
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                metrics.event_dropped(event.topic)
                log.warning("a subscriber fell %d events behind; ending it", self.queue_size)
            else:
                delivered += 1
        metrics.events_delivered(event.topic, delivered)

    @asynccontextmanager
    async def subscribe(self, wants: Callable[[Event], bool]) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(wants=wants, queue=asyncio.Queue(self.queue_size))
        self.subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self.subscribers.discard(subscriber)

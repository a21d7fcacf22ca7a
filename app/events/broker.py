"""Brokers: in-process for a single process, Redis pub/sub to reach every API process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import redis.asyncio as redis
from pydantic import TypeAdapter
from redis.exceptions import RedisError

from app.events.hub import Hub
from app.events.messages import Event

log = logging.getLogger(__name__)

_EVENT = TypeAdapter(Event)


class LocalBroker:
    """The single-process default: publishing is delivering."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def start(self) -> None:
        return None

    async def publish(self, event: Event) -> None:
        self.hub.deliver(event)

    async def publish_many(self, events: Sequence[Event]) -> None:
        for event in events:
            self.hub.deliver(event)

    async def close(self) -> None:
        return None


class RedisBroker:
    """One Redis subscription per process, fanned out to this process's subscribers.

    Events reach local subscribers through Redis too, so every process sees one order.
    While Redis is away, publishing delivers locally and the listener keeps reconnecting;
    subscribers keep their subscriptions throughout.
    """

    def __init__(self, hub: Hub, url: str, channel: str) -> None:
        self.hub = hub
        self.channel = channel
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
        )
        self.listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self.listener = asyncio.create_task(self._listen(), name="redis-events")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=3)

    async def publish(self, event: Event) -> None:
        payload = _EVENT.dump_json(event)
        try:
            await self.client.publish(self.channel, payload)
        except (RedisError, OSError) as exc:
            log.warning("redis publish failed (%s); delivering to this process only", exc)
            self.hub.deliver(event)

    async def publish_many(self, events: Sequence[Event]) -> None:
        """A batch in one pipelined round trip, so a schedule change of 1,000 slots costs one."""
        if len(events) == 1:
            await self.publish(events[0])
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.publish(self.channel, _EVENT.dump_json(event))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("redis publish failed (%s); delivering to this process only", exc)
            for event in events:
                self.hub.deliver(event)

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected.set()
                backoff = 0.1
                log.info("listening for events on redis")
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message["type"] == "message":
                        self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.connected.clear()
                log.warning("redis subscription lost (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _dispatch(self, raw: bytes) -> None:
        try:
            event = _EVENT.validate_json(raw)
        except ValueError:
            log.exception("dropping an unreadable event")
            return
        self.hub.deliver(event)

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        await self.client.aclose()

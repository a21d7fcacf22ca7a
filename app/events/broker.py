"""Brokers: in-process for a single process, Redis pub/sub to reach every API process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import redis.asyncio as redis
from pydantic import TypeAdapter
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from app.core.clock import utcnow
from app.events.hub import Hub
from app.events.messages import Event, EventsMissedReason, Resync
from app.redis_link import Respite, client_options

log = logging.getLogger(__name__)

_EVENT = TypeAdapter(Event)
_LIVENESS = b"aayulink-liveness"
# How often the subscription checks that Redis still answers, and how long it waits for
# an answer (or any message) before counting the link as lost. Lenient: a false alarm
# costs a reconnect and an `eventsMissed` notice to every subscriber of the process.
PING_EVERY_SECONDS = 1.0
ANSWER_WITHIN_SECONDS = 3.0


class LocalBroker:
    """The single-process default: publishing is delivering."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def start(self) -> None:
        return None

    def delivery_epoch(self) -> int | None:
        """Every event of this process reaches its hub: one epoch, for ever."""
        return 0

    async def publish(self, event: Event) -> None:
        self.hub.deliver(event)

    async def publish_many(self, events: Sequence[Event]) -> None:
        for event in events:
            self.hub.deliver(event)

    async def close(self) -> None:
        return None


class LinkStalled(Exception):
    """Redis did not answer the subscription's ping in time: it may be stopped, not gone."""


class RedisBroker:
    """One Redis subscription per process, fanned out to this process's subscribers.

    Events reach local subscribers through Redis too, so every process sees one order.
    While Redis is away or stalled, publishing delivers locally and the listener keeps
    reconnecting; subscribers keep their subscriptions throughout, and are sent a `Resync`
    once Redis answers again: this process's subscription broke (they may have missed other
    processes' events), or its publishes did not get through (the other processes'
    subscribers missed them, so the notice goes out through Redis to every process).
    """

    def __init__(self, hub: Hub, url: str, channel: str, timeout_seconds: float = 1.0) -> None:
        self.hub = hub
        self.channel = channel
        self.timeout_seconds = timeout_seconds
        self.client = redis.Redis.from_url(url, **client_options(timeout_seconds))
        # No silent retries on the subscription: redis-py would resubscribe on a new
        # connection and the events in between would be lost without a word.
        self.listening_client = redis.Redis.from_url(url, **client_options(timeout_seconds, 0))
        self.respite = Respite()
        self.owes_resync = False  # a publish failed since the last notice went out
        self.listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        # One more each time the subscription is (re)established: what was heard before a
        # break may lack events, so the read model keeps nothing across epochs.
        self.link_epoch = 0

    async def start(self) -> None:
        self.listener = asyncio.create_task(self._listen(), name="redis-events")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=3)

    def delivery_epoch(self) -> int | None:
        """The current subscription's epoch, or None while events may be going missing:
        the subscription is down, or Redis failed a moment ago (a publish or a ping)."""
        if not self.connected.is_set() or self.respite.resting:
            return None
        return self.link_epoch

    async def publish(self, event: Event) -> None:
        await self.publish_many([event])

    async def publish_many(self, events: Sequence[Event]) -> None:
        """A batch in one pipelined round trip, so a schedule change of 1,000 slots costs one.

        Waits at most the timeout; on failure (or while resting after one) the events go to
        this process's subscribers only, and a resync notice is owed to the others.
        """
        # This process's read model hears its own changes at once, so a client reads its
        # own write from the process that made it; the copy coming back through Redis is
        # applied again, to no effect (app/domain/read_model/model.py).
        for event in events:
            self.hub.notify_watchers(event)
        # A large batch may take longer than one timeout on a healthy Redis; it is still
        # bounded, by the socket timeout on each read.
        bound = self.timeout_seconds if len(events) == 1 else None
        if not self.respite.resting:
            try:
                async with asyncio.timeout(bound):
                    await self._send(events)
                return
            except (RedisError, OSError) as exc:
                self.respite.failed()
                log.warning("redis publish failed (%r); delivering to this process only", exc)
        self.owes_resync = True
        for event in events:
            self.hub.deliver(event)

    async def _send(self, events: Sequence[Event]) -> None:
        if len(events) == 1:
            await self.client.publish(self.channel, _EVENT.dump_json(events[0]))
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self.channel, _EVENT.dump_json(event))
            await pipe.execute()

    async def _listen(self) -> None:
        backoff = 0.1
        link_lost = False
        while True:
            pubsub = self.listening_client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)  # bounded by the socket timeouts
                await self._ping(pubsub)
                self.link_epoch += 1
                self.connected.set()
                self.respite.recovered()
                backoff = 0.1
                log.info("listening for events on redis")
                if link_lost or self.owes_resync:
                    await self._resync(local=link_lost)
                    link_lost = False
                await self._relay(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, LinkStalled) as exc:
                self.connected.clear()
                self.respite.failed()
                link_lost = True
                log.warning("redis subscription lost (%r); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _ping(self, pubsub: PubSub) -> None:
        """Returns once Redis answers a ping on the subscription, relaying what comes first.

        A stopped Redis keeps the connection open and silent, so waiting for messages alone
        would never notice it: no word from Redis for `answer_within` is a lost link. Messages
        count as a word, so a busy channel (or a busy process) is not taken for a stall.
        """
        loop = asyncio.get_running_loop()
        answer_within = max(self.timeout_seconds, ANSWER_WITHIN_SECONDS)
        await pubsub.ping(_LIVENESS)
        deadline = loop.time() + answer_within
        # At least one read, even past the deadline: a process too busy to look for a while
        # (a burst of requests) finds the answer waiting rather than calling Redis stalled,
        # which would drop its read model and its subscribers' continuity for nothing.
        first = True
        while (remaining := deadline - loop.time()) > 0 or first:
            first = False
            message = await pubsub.get_message(timeout=max(remaining, 0))
            if message is None:
                continue
            if message["type"] == "pong" and message["data"] == _LIVENESS:
                return
            if message["type"] == "message":
                self._dispatch(message["data"])
                deadline = loop.time() + answer_within
        raise LinkStalled(f"no word from redis within {answer_within}s")

    async def _relay(self, pubsub: PubSub) -> None:
        """Delivers what arrives; every second checks that Redis still answers."""
        loop = asyncio.get_running_loop()
        while True:
            quiet_until = loop.time() + PING_EVERY_SECONDS
            while (remaining := quiet_until - loop.time()) > 0:
                message = await pubsub.get_message(timeout=remaining)
                if message is not None and message["type"] == "message":
                    self._dispatch(message["data"])
            await self._ping(pubsub)
            self.respite.recovered()
            if self.owes_resync:
                await self._resync(local=False)

    async def _resync(self, local: bool) -> None:
        """Tells subscribers they may have missed events.

        When publishes failed, every process's subscribers are told through Redis (this
        one's too); otherwise, or if that fails again, only this process's (`local`).
        """
        if self.owes_resync:
            self.owes_resync = False
            notice = Resync(at=utcnow(), reason=EventsMissedReason.PUBLISH_FAILED)
            try:
                async with asyncio.timeout(self.timeout_seconds):
                    await self.client.publish(self.channel, _EVENT.dump_json(notice))
                return
            except (RedisError, OSError) as exc:
                self.owes_resync = True
                log.warning("could not send the resync notice (%r); will retry", exc)
        if local:
            self.hub.deliver(Resync(at=utcnow(), reason=EventsMissedReason.REDIS_RECONNECTED))

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
        await self.listening_client.aclose()

"""Store commands oldest request first: a few at a time per process, the rest queued by age.

The embedded store runs one command at a time. Sixteen patients locking and booking at once
sent their commands in turn, each patient's next one queued behind everyone's current one,
so all sixteen finished near the end of the rush (B12: p50 close to the max). Here an API
process keeps at most STORE_COMMANDS_IN_FLIGHT commands at the store and gives the next
free place to the command of the request that arrived first: a request's commands follow
one another, and patients finish one after the other (docs/performance.md has the figures).

A request's age is when it arrived (`request_started`, set by app/web/middleware.py), less
any head start it was given (`ahead`); work outside a request (the sender, housekeeping) is
as old as the moment its command asks, so it never waits behind requests that came later.
PyMongo has no hook before a command takes a pooled connection, so the gate wraps its pool
checkout (pymongo 4.20, pinned in pyproject; tests/test_command_order.py fails if it moves).
Only the clients given to `order_commands` are gated: the background lane and PyMongo's
monitors are not.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
import weakref
from types import TracebackType
from typing import Any

from pymongo.asynchronous import pool as pymongo_pool

from app.core.request_id import request_started
from app.observability import metrics


class OldestFirst:
    """`places` commands at once; the waiter with the smallest age gets the next free place."""

    def __init__(self, places: int) -> None:
        self.free = places
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    def try_acquire(self) -> bool:
        """A place now, if one is free and nobody waits for it."""
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return True
        return False

    async def acquire(self, age: float) -> None:
        if self.try_acquire():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (age, next(self._arrival), waiter))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a place as it was cancelled: the next one takes it
            else:
                waiter.cancel()  # left in the heap, skipped by release()
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():
                waiter.set_result(None)  # the place passes straight to it
                return
        self.free += 1

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, waiter in self._waiting if not waiter.done())


# By the client's identity: PyMongo clients compare equal when they reach the same servers,
# and the background lane's client must not share the requests' gate.
_gates: dict[int, tuple[weakref.ref[Any], OldestFirst]] = {}
# Checked-out connection (by id) -> the gate whose place it holds until checked in.
_held: dict[int, OldestFirst] = {}


def order_commands(client: Any, in_flight: int) -> None:
    """Gate `client`'s commands, `in_flight` at a time, oldest request first (until the
    client is gone: `forget`)."""
    _apply()
    _gates[id(client)] = (weakref.ref(client), OldestFirst(in_flight))
    metrics.store_command_places(in_flight)


def forget(client: Any) -> None:
    """Before the client closes: its id may be reused by a later object."""
    _gates.pop(id(client), None)


def gate_of(client: Any) -> OldestFirst | None:
    """`client`'s own gate, by identity (a weak reference confirms the id is still it)."""
    found = _gates.get(id(client))
    return found[1] if found is not None and found[0]() is client else None


def ahead(seconds: float) -> None:
    """The rest of the current request queues as if it had arrived `seconds` earlier."""
    started = request_started.get()
    request_started.set((time.monotonic() if started is None else started) - seconds)


def _gate_of(checkout: Any) -> OldestFirst | None:
    handler = checkout._handler
    client = getattr(handler, "client", None)
    return None if client is None else gate_of(client)


_checkout_enter = pymongo_pool._PoolCheckout.__aenter__
_checkout_exit = pymongo_pool._PoolCheckout.__aexit__


async def _enter(self: Any) -> Any:
    gate = _gate_of(self)
    if gate is None:
        return await _checkout_enter(self)
    age = request_started.get()
    if not gate.try_acquire():
        metrics.store_command_waiting(1)
        try:
            await gate.acquire(time.monotonic() if age is None else age)
        finally:
            metrics.store_command_waiting(-1)
    try:
        connection = await _checkout_enter(self)
    except BaseException:
        gate.release()
        raise
    _held[id(connection)] = gate
    return connection


async def _exit(
    self: Any,
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    traceback: TracebackType | None,
) -> None:
    connection = self._conn
    try:
        await _checkout_exit(self, exc_type, exc, traceback)
    finally:
        gate = _held.pop(id(connection), None) if connection is not None else None
        if gate is not None:
            gate.release()


def _apply() -> None:
    pymongo_pool._PoolCheckout.__aenter__ = _enter  # type: ignore[method-assign]
    pymongo_pool._PoolCheckout.__aexit__ = _exit  # type: ignore[method-assign,assignment]

"""Subscribe over WebSocket with the `gql` client and collect what arrives, for the tests.

`connect(...)` opens one WebSocket (either subprotocol) and yields a `Connection`;
`Connection.subscribe(...)` starts one subscription as a task that feeds a queue, so a
test can act over HTTP and then await the event it expects, always with a bounded wait.

A subscription is registered on the server some time after the client sends it, and no
protocol message says when. `until_ready` closes that gap without sleeping blindly: it
repeats a harmless "probe" change that the subscription is bound to hear until every
subscription given has heard one. Probe events are recognised by `skip` and never
returned by `next()`, so whatever a test reads afterwards happened after the probe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

GRAPHQL_TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL  # "graphql-transport-ws"
GRAPHQL_WS = WebsocketsTransport.APOLLO_SUBPROTOCOL  # legacy "graphql-ws"
PROTOCOLS = (GRAPHQL_TRANSPORT_WS, GRAPHQL_WS)

EVENT_TIMEOUT = 10.0

Payload = dict[str, Any]


class StreamEnded(AssertionError):
    """The subscription finished (cleanly or with an error) while an event was awaited."""


@dataclass(eq=False)
class Subscription:
    """One running subscription: its events (and how it ended) in arrival order."""

    name: str
    skip: Callable[[Payload], bool]
    items: asyncio.Queue[Payload | BaseException | None] = field(default_factory=asyncio.Queue)
    heard_probe: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def ended(self) -> bool:
        return self.task is not None and self.task.done()

    def _accept(self, data: Payload) -> None:
        if self.skip(data):
            self.heard_probe.set()
        else:
            self.items.put_nowait(data)

    async def _take(self, within: float) -> Payload | BaseException | None:
        try:
            return await asyncio.wait_for(self.items.get(), within)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: nothing arrived within {within}s; "
                f"server logs are under the basetemp's logs0/"
            ) from None

    async def next(self, within: float = EVENT_TIMEOUT) -> Payload:
        """The next (non-probe) event's data; fails if the stream ends or errs first."""
        item = await self._take(within)
        if isinstance(item, BaseException):
            raise StreamEnded(f"{self.name}: the stream failed with {item!r}") from item
        if item is None:
            raise StreamEnded(f"{self.name}: the stream completed")
        return item

    async def next_matching(
        self, wanted: Callable[[Payload], bool], within: float = EVENT_TIMEOUT
    ) -> Payload:
        """The first event that `wanted` accepts, passing over others (for busy streams)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            data = await self.next(max(0.01, deadline - loop.time()))
            if wanted(data):
                return data

    async def failure(self, within: float = EVENT_TIMEOUT) -> BaseException:
        """How the stream ended; fails if an event arrives before the stream ends."""
        item = await self._take(within)
        if isinstance(item, BaseException):
            return item
        raise AssertionError(f"{self.name}: expected the stream to fail, got {item!r}")

    def pending(self) -> list[Payload | BaseException | None]:
        """What has arrived and not been read yet (without waiting)."""
        found: list[Payload | BaseException | None] = []
        while not self.items.empty():
            found.append(self.items.get_nowait())
        return found


@dataclass
class Connection:
    session: AsyncClientSession
    subscriptions: list[Subscription] = field(default_factory=list)

    def subscribe(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        skip: Callable[[Payload], bool] = lambda _: False,
        name: str | None = None,
    ) -> Subscription:
        """Starts the subscription; its events are read with `next()` and friends."""
        subscription = Subscription(name=name or query.split("{", 2)[1].strip(), skip=skip)
        request = GraphQLRequest(query, variable_values=variables)
        subscription.task = asyncio.create_task(self._pump(request, subscription))
        self.subscriptions.append(subscription)
        return subscription

    async def _pump(self, request: GraphQLRequest, subscription: Subscription) -> None:
        try:
            async for data in self.session.subscribe(request):
                subscription._accept(data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream's end, for the test to inspect
            subscription.items.put_nowait(exc)
        else:
            subscription.items.put_nowait(None)


def auth_payload(token: str | None, key: str = "Authorization") -> dict[str, Any]:
    return {key: f"Bearer {token}"} if token else {}


@asynccontextmanager
async def connect(
    ws_url: str,
    token: str | None = None,
    protocol: str = GRAPHQL_TRANSPORT_WS,
    auth_key: str = "Authorization",
) -> AsyncIterator[Connection]:
    """One WebSocket connection, closed (with its subscriptions) on the way out."""
    transport = WebsocketsTransport(
        url=ws_url,
        subprotocols=[protocol],
        init_payload=auth_payload(token, auth_key),
        connect_timeout=10,
        ack_timeout=10,
        close_timeout=5,
    )
    client = Client(transport=transport, fetch_schema_from_transport=False)
    session = await client.connect_async()
    assert isinstance(session, AsyncClientSession)
    connection = Connection(session)
    try:
        yield connection
    finally:
        for subscription in connection.subscriptions:
            if subscription.task is not None:
                subscription.task.cancel()
        for subscription in connection.subscriptions:
            if subscription.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await subscription.task
        with contextlib.suppress(Exception):
            await client.close_async()


async def until_ready(
    subscriptions: list[Subscription],
    probe: Callable[[], Awaitable[object]],
    within: float = 20.0,
    interval: float = 0.5,
) -> None:
    """Repeats `probe()` until every subscription has heard one of the probes it causes.

    A subscription that ends while waiting fails the wait with how it ended.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await probe()
        waiting = [s for s in subscriptions if not s.heard_probe.is_set()]
        for subscription in waiting:
            if subscription.ended:
                ended = subscription.pending()
                raise AssertionError(f"{subscription.name} ended before it was ready: {ended}")
        heard = [asyncio.ensure_future(s.heard_probe.wait()) for s in waiting]
        ends = [s.task for s in waiting if s.task is not None]
        if heard:
            await asyncio.wait([*heard, *ends], timeout=interval)
            for future in heard:
                future.cancel()
            for subscription in waiting:
                if subscription.ended and not subscription.heard_probe.is_set():
                    raise AssertionError(
                        f"{subscription.name} ended before it was ready: {subscription.pending()}"
                    )
        if all(s.heard_probe.is_set() for s in subscriptions):
            return
        if loop.time() >= deadline:
            raise AssertionError(f"subscriptions not ready after {within}s of probing")


def error_codes(failure: BaseException) -> list[str | None]:
    """The contract codes of a `TransportQueryError`'s GraphQL errors."""
    assert isinstance(failure, TransportQueryError), f"expected a GraphQL error, got {failure!r}"
    assert failure.errors, f"no errors in {failure!r}"
    return [(error.get("extensions") or {}).get("code") for error in failure.errors]


def first_error(failure: BaseException) -> dict[str, Any]:
    assert isinstance(failure, TransportQueryError), f"expected a GraphQL error, got {failure!r}"
    assert failure.errors, f"no errors in {failure!r}"
    return dict(failure.errors[0])

"""A lean graphql-transport-ws subscriber on raw `websockets`, light enough to open thousands.

Every `next` payload is handed to a callback with the time it was read, before any parsing
beyond the JSON frame, so receipt times measure the servers and not this client's bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
OnData = Callable[[dict[str, Any], float], None]


class Subscriber:
    """One connection with one subscription; `ended` says how it stopped, if it did."""

    def __init__(
        self,
        url: str,
        token: str,
        query: str,
        variables: dict[str, Any],
        on_data: OnData,
        compression: str | None = "deflate",
    ) -> None:
        self.url = url
        self.token = token
        self.query = query
        self.variables = variables
        self.on_data = on_data
        self.compression = compression
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.ended: dict[str, Any] | None = None

    async def open(self) -> None:
        """connection_init with the token, wait for the ack, then subscribe."""
        self.ws = await connect(
            self.url,
            subprotocols=[PROTOCOL],
            compression=self.compression,
            proxy=None,
            open_timeout=120,
            ping_interval=None,
            close_timeout=2,
        )
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
        await self.ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), 120))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"connection refused: {ack}")
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": self.query, "variables": self.variables},
        }
        await self.ws.send(json.dumps(subscribe))
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                received = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    self.on_data(message["payload"], received)
                elif kind == "ping":
                    await self.ws.send('{"type": "pong"}')
                elif kind in ("error", "complete"):
                    self.ended = message
                    return
        except Exception as exc:  # a dropped connection is a figure (undelivered), not a crash
            self.ended = {"type": "connection_lost", "error": repr(exc)}

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


async def open_all(subscribers: list[Subscriber], at_once: int = 50) -> float:
    """Open every subscriber, `at_once` at a time; the seconds it took."""
    gate = asyncio.Semaphore(at_once)
    started = time.perf_counter()

    async def one(subscriber: Subscriber) -> None:
        async with gate:
            await subscriber.open()

    await asyncio.gather(*(one(s) for s in subscribers))
    return time.perf_counter() - started


async def close_all(subscribers: list[Subscriber]) -> None:
    gate = asyncio.Semaphore(100)

    async def one(subscriber: Subscriber) -> None:
        async with gate:
            await subscriber.close()

    await asyncio.gather(*(one(s) for s in subscribers))

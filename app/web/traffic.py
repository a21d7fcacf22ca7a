"""Counts GraphQL requests in flight and open WebSockets; closes those, with 1001 and a
reason, at shutdown.

uvicorn closes the WebSockets it still holds at shutdown with 1012 and no reason; a
client should hear "going away" and why before that, so it reconnects elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import metrics

log = logging.getLogger(__name__)
GOING_AWAY = 1001
SHUTDOWN_REASON = "Server shutting down; reconnect"


@dataclass(eq=False)
class _Connection:
    send: Send
    closed: bool = False

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        await self.send({"type": "websocket.close", "code": code, "reason": reason})


_open: set[_Connection] = set()


async def close_all(code: int = GOING_AWAY, reason: str = SHUTDOWN_REASON) -> int:
    """Close every open WebSocket of this process; returns how many."""
    connections = list(_open)
    if connections:
        log.info("closing %d WebSocket(s): %s", len(connections), reason)
        await asyncio.gather(*(c.close(code, reason) for c in connections), return_exceptions=True)
    return len(connections)


class TrafficTracker:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql":
            metrics.request_started()
            try:
                await self.app(scope, receive, send)
            finally:
                metrics.request_ended()
            return
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        connection = _Connection(send)
        accepted = False

        async def tracked_send(message: Message) -> None:
            nonlocal accepted
            if connection.closed:
                return  # closed for shutdown: what the handler still sends has nowhere to go
            if message["type"] == "websocket.close":
                connection.closed = True
            elif message["type"] == "websocket.accept" and not accepted:
                accepted = True
                _open.add(connection)
                metrics.websocket_opened()
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        finally:
            if accepted:
                _open.discard(connection)
                metrics.websocket_closed()

"""Raw WebSocket protocol messages (with `websockets`), for what a GraphQL client hides.

`subscribe_once` opens a connection, initialises it, sends one operation and returns every
message that arrived until the operation ended (error or complete) or the socket closed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
GRAPHQL_WS = "graphql-ws"
WAIT = 15.0


@dataclass
class Exchange:
    messages: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str | None = None

    @property
    def types(self) -> list[str]:
        return [str(m.get("type")) for m in self.messages]

    def error_payload(self) -> dict[str, Any]:
        """The first error of the protocol's `error` message (a list or an object)."""
        found = [m for m in self.messages if m.get("type") == "error"]
        assert found, f"no error message: {self.messages}, closed {self.close_code}"
        payload = found[0]["payload"]
        return dict(payload[0] if isinstance(payload, list) else payload)


async def subscribe_once(
    ws_url: str,
    query: str,
    protocol: str = GRAPHQL_TRANSPORT_WS,
    token: str | None = None,
    variables: dict[str, Any] | None = None,
    origin: str | None = None,
) -> Exchange:
    exchange = Exchange()
    headers = {"Origin": origin} if origin else None
    async with websockets.connect(
        ws_url,
        subprotocols=[websockets.Subprotocol(protocol)],
        additional_headers=headers,
        max_size=None,
    ) as socket:
        init = {"Authorization": f"Bearer {token}"} if token else {}
        await socket.send(json.dumps({"type": "connection_init", "payload": init}))
        try:
            ack = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        except ConnectionClosed:
            exchange.close_code, exchange.close_reason = _closed(socket)
            return exchange
        assert ack["type"] == "connection_ack", ack
        start = "subscribe" if protocol == GRAPHQL_TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await socket.send(json.dumps({"id": "1", "type": start, "payload": payload}))
        try:
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
                if message.get("type") == "ka":
                    continue
                exchange.messages.append(message)
                if message.get("type") in ("error", "complete"):
                    break
        except ConnectionClosed:
            exchange.close_code, exchange.close_reason = _closed(socket)
    return exchange


def _closed(socket: Any) -> tuple[int | None, str | None]:
    return socket.close_code, socket.close_reason

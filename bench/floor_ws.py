"""B4's floor: a bare Starlette WebSocket route that speaks just enough graphql-transport-ws.

It acknowledges the connection, accepts one subscription and then holds the connection with
an event queue, as the least a server must keep per idle subscriber. Served by uvicorn with
the same defaults as the API, so the difference per connection is the API's own.
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

SUBSCRIBERS: set[asyncio.Queue[bytes]] = set()


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def subscribers(_: Request) -> JSONResponse:
    """How many subscriptions are held, so the runner knows when all are in."""
    return JSONResponse({"subscribers": len(SUBSCRIBERS)})


async def graphql_ws(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="graphql-transport-ws")
    await websocket.receive_json()  # connection_init
    await websocket.send_json({"type": "connection_ack"})
    await websocket.receive_json()  # subscribe
    queue: asyncio.Queue[bytes] = asyncio.Queue(256)
    SUBSCRIBERS.add(queue)
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    finally:
        SUBSCRIBERS.discard(queue)


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/subscribers", subscribers),
        WebSocketRoute("/graphql", graphql_ws),
    ]
)

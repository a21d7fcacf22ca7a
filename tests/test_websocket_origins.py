"""WebSocket handshakes honour CORS_ORIGINS (issue 8: 10).

Browsers apply no CORS to WebSockets, so the server checks Origin itself: dashboards on an
allowed origin subscribe, pages elsewhere are refused, clients sending no Origin stay allowed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.servers import ApiServer
from tests.ws_raw import GRAPHQL_TRANSPORT_WS, WAIT

ALLOWED = "https://app.example"


@pytest.fixture(scope="module")
def cors_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(store_uri, db_name, env={"CORS_ORIGINS": f"{ALLOWED},http://localhost:5173"})
    yield server.start(log_dir)
    server.stop()


async def acknowledged(ws_url: str, origin: str | None) -> bool:
    """Opens a graphql-transport-ws connection and says whether connection_init was acked."""
    headers = {"Origin": origin} if origin else None
    async with websockets.connect(
        ws_url,
        subprotocols=[websockets.Subprotocol(GRAPHQL_TRANSPORT_WS)],
        additional_headers=headers,
        open_timeout=WAIT,
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        reply = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        return bool(reply["type"] == "connection_ack")


async def test_a_websocket_from_an_allowed_origin_is_accepted(cors_server: ApiServer) -> None:
    assert await acknowledged(cors_server.ws_url, ALLOWED)
    assert await acknowledged(cors_server.ws_url, "http://localhost:5173")


async def test_a_websocket_from_another_origin_is_refused_with_403(
    cors_server: ApiServer,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await acknowledged(cors_server.ws_url, "https://evil.example")
    assert refused.value.response.status_code == 403


async def test_a_websocket_without_an_origin_header_is_accepted(cors_server: ApiServer) -> None:
    assert await acknowledged(cors_server.ws_url, None)


async def test_without_cors_origins_a_cross_origin_websocket_is_refused(
    server_a: ApiServer,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await acknowledged(server_a.ws_url, ALLOWED)
    assert refused.value.response.status_code == 403

"""SIGTERM to `python -m app serve`: no new connections, the request in flight is answered,
WebSockets close with 1001 and a reason, exit 0 within the grace, and the store's data
directory opens cleanly again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from app.store import data_dir_lock
from app.store.backup import database_path
from tests.graphql_client import CREATE_SPECIALTY, LOGIN
from tests.metrics_scrape import scrape, total
from tests.serve_process import Serve
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.test_subscriptions import SLOT_UPDATES

GRACE_SECONDS = 20
WAIT_S = 30  # liveness bounds for the test, not performance targets


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


async def test_sigterm_drains_and_stops_the_store_last(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = Serve(
        data_dir, tmp_path / "serve.log", env={"SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS)}
    ).start()
    http = httpx.AsyncClient(timeout=30)
    try:
        variables = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        login = (await http.post(server.url, json={"query": LOGIN, "variables": variables})).json()
        token = login["data"]["login"]["accessToken"]

        socket = await websockets.connect(
            server.ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        )
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SLOT_UPDATES}})
        )
        _wait_for(
            lambda: total(scrape(server.base), "aayulink_subscriptions_active") == 1,
            "the subscription runs",
        )

        # A request in flight: its headers and half its body are in, the rest comes later.
        body = json.dumps(
            {"query": CREATE_SPECIALTY, "variables": {"input": {"name": "Drained Dermatology"}}}
        ).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[: len(body) // 2]
        )
        await writer.drain()
        _wait_for(
            lambda: total(scrape(server.base), "aayulink_graphql_requests_in_flight") == 1,
            "the request is in flight",
        )

        server.terminate()
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(socket.recv(), WAIT_S)
        assert socket.close_code == 1001
        assert socket.close_reason == "Server shutting down; reconnect"
        # No new connections. A client of its own: `http` still holds the login's keep-alive
        # connection, on which a request sent before the server's close arrives is answered.
        async with httpx.AsyncClient(timeout=30) as fresh:
            with pytest.raises(httpx.ConnectError):
                await fresh.get(f"{server.base}/healthz")

        writer.write(body[len(body) // 2 :])
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT_S)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        answer = json.loads(await reader.readexactly(length))
        assert answer["data"]["createSpecialty"]["name"] == "Drained Dermatology", answer
        writer.close()

        assert server.process is not None
        assert server.process.wait(timeout=GRACE_SECONDS) == 0, server.logs()
    finally:
        await http.aclose()
        server.stop()
    assert "store stopped" in server.logs()

    # The store is gone (its lock is free) and left a whole database behind.
    with (
        data_dir_lock.holding(data_dir),
        contextlib.closing(sqlite3.connect(database_path(data_dir))) as db,
    ):
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = Serve(data_dir, tmp_path / "again.log").start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            names = await client.post(again.url, json={"query": "{ specialties { name } }"})
        assert {"name": "Drained Dermatology"} in names.json()["data"]["specialties"]
    finally:
        again.stop()

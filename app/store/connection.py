"""One PyMongo async client per process, Beanie on top, with short timeouts.

Every store, the embedded one and a real MongoDB replica set alike, runs the same write
path: single-document atomic claims, unique indexes and the reconciler. There is no
transaction branch, so what production runs is what the tests run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beanie import init_beanie
from pymongo import AsyncMongoClient

from app.models import DOCUMENT_MODELS
from app.settings import get_settings
from app.store.command_order import forget, order_commands
from app.store.command_timer import StoreCommandTimer
from app.store.lanes import BACKGROUND_CONNECTIONS, close_background_lane, open_background_lane
from app.store.migrations import migrate


@dataclass
class Store:
    client: AsyncMongoClient
    background: AsyncMongoClient

    async def close(self) -> None:
        close_background_lane()
        forget(self.client)
        await self.background.close()
        await self.client.close()


_store: Store | None = None
HEARTBEAT_PATIENCE = 3


def get_store() -> Store:
    if _store is None:
        raise RuntimeError("the store is not connected")
    return _store


def open_client(uri: str, max_connections: int | None = None) -> AsyncMongoClient:
    """A store that is down answers within STORE_TIMEOUT_SECONDS, not PyMongo's 30 s.

    The connect timeout is also how long PyMongo's monitor waits for its heartbeat, and a
    heartbeat that times out interrupts every command in flight (an all-or-nothing change's
    step and then its undo among them). A store busy for a few seconds is slow, not down:
    the heartbeat gets HEARTBEAT_PATIENCE times the timeout. A store that is down refuses
    connections at once, so requests still fail within STORE_TIMEOUT_SECONDS.
    """
    timeout_ms = int(get_settings().store_timeout_seconds * 1000)
    bound: dict[str, Any] = {} if max_connections is None else {"maxPoolSize": max_connections}
    return AsyncMongoClient(
        uri,
        **bound,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms * HEARTBEAT_PATIENCE,
        event_listeners=[StoreCommandTimer()],
    )


EMBEDDED_COMMANDS_IN_FLIGHT = 2  # B12: 2 and 4 gave the same p50, 2 the better throughput


async def commands_in_flight(client: AsyncMongoClient) -> int:
    """STORE_COMMANDS_IN_FLIGHT, or its default for the store at the other end (0: not
    limited): `serve` hands its workers the embedded store's address as MONGODB_URI too, so
    the store says what it is (mongoeco's buildInfo names it)."""
    chosen = get_settings().store_commands_in_flight
    if chosen is not None:
        return chosen
    build = await client.admin.command("buildInfo")
    return EMBEDDED_COMMANDS_IN_FLIGHT if build.get("gitVersion") == "mongoeco" else 0


async def connect_store(uri: str, db_name: str) -> Store:
    """Connect both lanes (app/store/lanes.py), register the Beanie documents and create
    their indexes."""
    global _store
    client = open_client(uri)
    if in_flight := await commands_in_flight(client):
        order_commands(client, in_flight)
    await migrate(client[db_name])
    await init_beanie(database=client[db_name], document_models=DOCUMENT_MODELS)
    background = open_client(uri, BACKGROUND_CONNECTIONS)
    open_background_lane(background, db_name)
    _store = Store(client=client, background=background)
    return _store


async def disconnect_store() -> None:
    global _store
    if _store is not None:
        await _store.close()
        _store = None

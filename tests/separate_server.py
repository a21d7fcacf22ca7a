"""An API process with settings of its own (a far horizon, notification sinks, an injected
fault), on a database of its own in the session's store, so it neither sees nor changes what
the other tests wrote."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, GraphQL
from tests.servers import ApiServer

Store = AsyncDatabase[dict[str, Any]]


@dataclass(frozen=True)
class SeparateServer:
    server: ApiServer
    api: Api  # through the server's GraphQL, the admin signed in
    store: Store  # the server's database, read and written directly


@asynccontextmanager
async def separate_server(
    http: httpx.AsyncClient, store_uri: str, log_dir: Path, name: str, env: dict[str, str]
) -> AsyncIterator[SeparateServer]:
    """Started with `env` on a fresh database named after `name`; stopped on leaving."""
    database = f"aayulink_{name}_{uuid.uuid4().hex[:8]}"
    server = ApiServer(store_uri, database, env=env).start(log_dir)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri, tz_aware=True)
    try:
        gql = GraphQL(http, server.url)
        yield SeparateServer(server, Api(gql, await Api.login_admin(gql)), client[database])
    finally:
        await client.close()
        server.stop()

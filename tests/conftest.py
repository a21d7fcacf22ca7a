"""Session-wide real services: one embedded store, two API processes sharing it."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure

from app.store.embedded import EmbeddedStoreProcess
from tests.graphql_client import Api, GraphQL
from tests.servers import ApiServer, RedisProcess, server_pair


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The engine `serve` runs by default: SQLite, in a file of this session's own."""
    store = EmbeddedStoreProcess("sqlite", tmp_path_factory.mktemp("store"))
    yield store.start()
    store.stop()


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def engine_uri(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store of each engine, for a module testing an engine fix: its answers must be
    MongoDB's on both (app/store/engine_fixes/)."""
    store = EmbeddedStoreProcess(request.param, tmp_path_factory.mktemp(f"engine-{request.param}"))
    yield store.start()
    store.stop()


@pytest.fixture(scope="session")
def db_name() -> str:
    return f"aayulink_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module", autouse=True)
def drop_databases_made_by_the_module(store_uri: str, db_name: str) -> Iterator[None]:
    """Drops the databases a test module made once its own fixtures are done. The SQLite
    engine keeps every index of every database on one shared table, so each write updates
    the indexes of all of them: 15 leftover databases (480 indexes) made the session's last
    writes about ten times slower than its first (a demo seed, 8 s alone, took 76 s)."""
    client: MongoClient[dict[str, object]] = MongoClient(store_uri)
    try:
        before = _database_names(client)
        yield
        after = _database_names(client)
        if before is not None and after is not None:
            for name in after - before - {db_name}:
                client.drop_database(name)
    finally:
        client.close()


def _database_names(client: MongoClient[dict[str, object]]) -> set[str] | None:
    """None when the engine cannot list them: mongoeco 4.11 now and then answers
    listDatabases with "change history ... is no longer available" (then nothing is dropped:
    a leftover database slows the session, it breaks nothing)."""
    for pause in (0.2, 0.5, None):
        try:
            return set(client.list_database_names())
        except OperationFailure:
            if pause is None:
                return None
            time.sleep(pause)
    return None


@pytest.fixture(scope="session")
def server_a(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(store_uri, db_name).start(log_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_b(
    store_uri: str, db_name: str, log_dir: Path, server_a: ApiServer
) -> Iterator[ApiServer]:
    server = ApiServer(store_uri, db_name).start(log_dir)
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        yield client


@pytest.fixture(scope="session")
def gql(http: httpx.AsyncClient, server_a: ApiServer) -> GraphQL:
    return GraphQL(http, server_a.url)


@pytest.fixture(scope="session")
def gql_b(http: httpx.AsyncClient, server_b: ApiServer) -> GraphQL:
    return GraphQL(http, server_b.url)


@pytest_asyncio.fixture(scope="session")
async def api(gql: GraphQL) -> Api:
    return Api(gql, await Api.login_admin(gql))


@pytest_asyncio.fixture(scope="session")
async def store(store_uri: str, db_name: str) -> AsyncIterator[object]:
    """Direct PyMongo access, to check what the store holds after the API is done."""
    client: AsyncMongoClient = AsyncMongoClient(store_uri, tz_aware=True)  # type: ignore[type-arg]
    yield client[db_name]
    await client.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis of the test's own, to stop, stall and restart without disturbing the others."""
    with RedisProcess(tmp_path) as server:
        yield server


@pytest.fixture
def private_redis_pair(
    private_redis: RedisProcess, store_uri: str, db_name: str, log_dir: Path
) -> Iterator[tuple[ApiServer, ApiServer]]:
    """Two API processes on the session's store whose events go through the private Redis."""
    with server_pair(store_uri, db_name, log_dir, {"REDIS_URL": private_redis.url}) as pair:
        yield pair

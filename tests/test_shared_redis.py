"""Two deployments on one Redis hear and count nothing of each other (issue 20: 3).

Each deployment has a store of its own, both with the same database name (the default case
that used to share everything): events, subscriptions and rate limits stay apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from app.store.embedded import EmbeddedStoreProcess
from tests.graphql_client import LOGIN, Api, GraphQL
from tests.servers import ApiServer
from tests.subscriptions_client import connect, until_ready
from tests.test_subscriptions import SlotProbe

SLOT_UPDATES = "subscription { slotUpdates { kind slot { id } } }"  # everything: no filter
SAME_DB = "aayulink_shared_redis"
LIMITED = {"RATE_LIMIT_LOGIN_ADDRESS": "3/hour"}


@pytest.fixture(scope="module")
def deployments(
    tmp_path_factory: pytest.TempPathFactory, log_dir: Path
) -> Iterator[list[ApiServer]]:
    stores = [
        EmbeddedStoreProcess("memory", tmp_path_factory.mktemp(f"deployment{n}")) for n in (1, 2)
    ]
    servers: list[ApiServer] = []
    try:
        for store in stores:
            servers.append(ApiServer(store.start(), SAME_DB, env=dict(LIMITED)).start(log_dir))
        yield servers
    finally:
        for server in servers:
            server.stop()
        for store in stores:
            store.stop()


@pytest_asyncio.fixture
async def apis(http: httpx.AsyncClient, deployments: list[ApiServer]) -> list[Api]:
    found = []
    for server in deployments:
        gql = GraphQL(http, server.url)
        found.append(Api(gql, await Api.login_admin(gql)))
    return found


async def test_one_deployment_hears_nothing_of_the_other(
    apis: list[Api], deployments: list[ApiServer]
) -> None:
    first, second = apis
    first_clinic, second_clinic = await first.clinic(), await second.clinic()
    probe = await SlotProbe.create(second, second_clinic)
    async with connect(deployments[1].ws_url) as connection:
        events = connection.subscribe(SLOT_UPDATES, skip=probe.skip)
        await until_ready([events], probe)
        # The other deployment's change goes out first, its own second: the first event
        # heard must be its own.
        foreign = await first.slot(first_clinic, "08:00", "08:30")
        own = await second.slot(second_clinic, "08:00", "08:30")
        heard = await events.next()
        assert heard["slotUpdates"]["slot"]["id"] == own["id"] != foreign["id"]


async def test_rate_limits_are_counted_per_deployment(
    http: httpx.AsyncClient, deployments: list[ApiServer]
) -> None:
    first, second = (GraphQL(http, server.url) for server in deployments)
    wrong = {"email": "nobody@example.com", "password": "wrong-password"}
    for _ in range(3):
        await first(LOGIN, wrong)
    assert (await first(LOGIN, wrong)).code == "RATE_LIMITED"
    assert (await second(LOGIN, wrong)).code == "UNAUTHENTICATED"
